/// The rows of the repository list and of a repository's tag list, as ``HTMLText`` (the reason
/// is there). Each is the markup the page's template used to produce for it, byte for byte:
/// the stylesheet, the script (filter as you type, copy buttons) and the browser test find
/// rows by these elements and attributes.
extension RepositoriesPage.Row {
    var html: HTMLText {
        let badge: HTMLText =
            mirror.map { upstream -> HTMLText in " <span class=\"tag-badge mirror-badge\" title=\"pull-through cache of \(upstream)\">mirror</span>" } ?? ""
        return """
            <tr data-name="\(name)"><td><a href="\(url)">\(name)</a>\(badge)</td><td class="num">\(tags)</td>\
            <td class="num">\(size)</td><td><time title="\(pushed.exact)">\(pushed.text)</time></td></tr>

            """
    }
}

extension RepositoryPage.Row {
    var html: HTMLText {
        let delete: HTMLText = deleteURL.map { url -> HTMLText in "<td><a class=\"button danger\" href=\"\(url)\">Delete</a></td>" } ?? ""
        return """
            <tr data-name="\(tag)">
            <td><a href="\(imageURL)">\(tag)</a></td>
            <td><code title="\(digest)">\(shortDigest)</code></td>
            <td>\(kind)</td>
            <td class="num">\(size)</td>
            <td class="wide">\(platforms)</td>
            <td class="wide">\(created)</td>
            <td class="pushed"><time title="\(pushed.exact)">\(pushed.text)</time></td>
            <td class="pulled"><time title="\(pulled.exact)">\(pulled.text)</time></td>
            <td><button type="button" class="copy-pull" data-copy="\(pullCommand)" hidden>Copy pull</button>\
            <noscript><code>\(pullCommand)</code></noscript></td>
            \(delete)
            </tr>

            """
    }
}
