import Mustache

// Mustache finds a value by reflection (`Mirror`) unless the object answers by name: a Mirror
// lookup walks every field of the object, for every `{{name}}`, and in a debug build that was
// most of a 50-row page's time. The list pages and what they hold answer by name instead (their
// rows are ``HTMLText``, built in Swift).
// `WebUIListingTests` checks that each answers every field its Mirror has, with the same value.

extension Chrome: MustacheParent {
    func child(named key: String) -> Any? {
        switch key {
        case "title": title
        case "user": user
        case "csrf": csrf
        case "offersSignIn": offersSignIn
        default: nil
        }
    }
}

extension RepositoriesPage: MustacheParent {
    func child(named key: String) -> Any? {
        switch key {
        case "chrome": chrome
        case "query": query
        case "hasQuery": hasQuery
        case "sort": sort
        case "sortName": sortName
        case "sortPushed": sortPushed
        case "sortSize": sortSize
        case "repositoryRows": repositoryRows
        case "hasRepositories": hasRepositories
        case "nextURL": nextURL
        case "firstURL": firstURL
        default: nil
        }
    }
}

extension RepositoryPage: MustacheParent {
    func child(named key: String) -> Any? {
        switch key {
        case "mirror": mirror
        case "chrome": chrome
        case "name": name
        case "deleted": deleted
        case "tagCount": tagCount
        case "totalSize": totalSize
        case "pushed": pushed
        case "pulled": pulled
        case "query": query
        case "hasQuery": hasQuery
        case "sort": sort
        case "sortNewest": sortNewest
        case "sortName": sortName
        case "tagRows": tagRows
        case "hasTags": hasTags
        case "mayDelete": mayDelete
        case "nextURL": nextURL
        case "firstURL": firstURL
        default: nil
        }
    }
}

extension When: MustacheParent {
    func child(named key: String) -> Any? {
        switch key {
        case "text": text
        case "exact": exact
        default: nil
        }
    }
}

extension SortLink: MustacheParent {
    func child(named key: String) -> Any? {
        switch key {
        case "url": url
        case "active": active
        case "direction": direction
        default: nil
        }
    }
}
