import RegistryCore

/// The order in which a repository's manifests can be stored: every manifest after the
/// manifests of the same repository it names (an index's children, a referrer's subject),
/// otherwise oldest first. A store refuses an index whose children are missing; a subject
/// is not required, but storing it first keeps the referrers index whole at every moment.
enum ManifestOrder {
    /// `manifests` in storing order; `dependencies` gives the digests a manifest names.
    static func sorted(_ manifests: [Digest], dependencies: (Digest) -> [Digest]) -> [Digest] {
        let known = Set(manifests)
        var placed = Set<Digest>()
        var visiting = Set<Digest>()
        var order: [Digest] = []
        order.reserveCapacity(manifests.count)
        // Iterative depth-first walk: an index of thousands of children must not blow the stack.
        for root in manifests where !placed.contains(root) {
            var stack: [(digest: Digest, expanded: Bool)] = [(root, false)]
            while let (digest, expanded) = stack.popLast() {
                if placed.contains(digest) { continue }
                if expanded {
                    visiting.remove(digest)
                    placed.insert(digest)
                    order.append(digest)
                    continue
                }
                // A cycle cannot be made by content addressing; guard against a bad row anyway.
                guard visiting.insert(digest).inserted else { continue }
                stack.append((digest, true))
                for dependency in dependencies(digest).reversed()
                where known.contains(dependency) && !placed.contains(dependency) && !visiting.contains(dependency) {
                    stack.append((dependency, false))
                }
            }
        }
        return order
    }
}
