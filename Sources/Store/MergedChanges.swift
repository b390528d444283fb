import Router

/// Queued batches folded into the one set of changes a transaction writes (group commit):
/// per address only the last change counts; commit identities are all kept, in order.
struct MergedChanges {
    /// The highest batch sequence folded in.
    private(set) var through: UInt64 = 0
    private(set) var upserts: [String: StoredParam] = [:]
    private(set) var removals: Set<String> = []
    private(set) var commits: [CommitRecord] = []
    private(set) var timelineUpserts: [String: StoredTimeline] = [:]
    private(set) var timelineRemovals: Set<String> = []

    init(_ batches: [StoreBatch]) {
        for batch in batches {
            through = max(through, batch.sequence)
            // Removals before upserts: an upsert is the param's state when its batch was cut,
            // so an address in both expired and was then set again. (Had it been set and then
            // expired, its stored expiry time drops it at the next open anyway.)
            for address in batch.removals {
                upserts[address] = nil
                removals.insert(address)
            }
            for param in batch.upserts {
                removals.remove(param.address)
                upserts[param.address] = param
            }
            commits.append(contentsOf: batch.commits)
            // Same order for timelines: a definition in a batch is one playing when it was cut.
            for address in batch.timelineRemovals {
                timelineUpserts[address] = nil
                timelineRemovals.insert(address)
            }
            for timeline in batch.timelineUpserts {
                timelineRemovals.remove(timeline.address)
                timelineUpserts[timeline.address] = timeline
            }
        }
    }

    /// Clients whose commit identities this transaction adds to, so only they are pruned.
    var clientsWithNewCommits: Set<String> { Set(commits.map(\.client)) }
}
