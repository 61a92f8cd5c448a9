import Mustache

// Mustache finds a value by reflection (`Mirror`) unless the object answers by name: a Mirror
// lookup walks every field of the object, for every `{{name}}`, and in a debug build that was
// most of a 50-row page's time. The list rows and what they hold answer by name instead.
// `WebUIListingTests` checks that each answers every field its Mirror has, with the same value.

extension RepositoriesPage.Row: MustacheParent {
    func child(named key: String) -> Any? {
        switch key {
        case "name": name
        case "url": url
        case "tags": tags
        case "size": size
        case "pushed": pushed
        case "mirror": mirror
        default: nil
        }
    }
}

extension RepositoryPage.Row: MustacheParent {
    func child(named key: String) -> Any? {
        switch key {
        case "tag": tag
        case "imageURL": imageURL
        case "digest": digest
        case "shortDigest": shortDigest
        case "kind": kind
        case "size": size
        case "platforms": platforms
        case "created": created
        case "pushed": pushed
        case "pulled": pulled
        case "pullCommand": pullCommand
        case "deleteURL": deleteURL
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
