/// The router's side of durability: what changed since the last batch, which batches are
/// still being written, and when the next batch is due.
///
/// Writes are coalesced per address: a param written a thousand times between two batches
/// is stored once, with its latest state. A batch that fails is folded back into the next
/// one, so nothing is lost while the store recovers.
struct StoreLink {
    let store: any StateStore
    /// Longest time a change waits before its batch is handed over, ns.
    let interval: UInt64

    private var dirty: Swift.Set<ExactText> = []
    private var removed: Swift.Set<ExactText> = []
    private var commits: [CommitRecord] = []
    private var timelinesDirty: Swift.Set<ExactText> = []
    private var timelinesRemoved: Swift.Set<ExactText> = []
    private var inFlight: [InFlight] = []

    private struct InFlight {
        let sequence: UInt64
        let dirty: Swift.Set<ExactText>
        let removed: Swift.Set<ExactText>
        let commits: [CommitRecord]
        let timelinesDirty: Swift.Set<ExactText>
        let timelinesRemoved: Swift.Set<ExactText>
        /// Monotonic ns when the batch was handed to the store.
        let handedAt: UInt64
    }
    private var nextSequence: UInt64 = 1
    /// Every batch up to this one is on disk.
    private(set) var storedThrough: UInt64 = 0
    /// Monotonic time (ns) at which the pending changes must be handed over.
    private(set) var deadline: UInt64?

    init(store: any StateStore, interval: UInt64) {
        self.store = store
        self.interval = interval
    }

    /// The batch that will carry the changes made so far: a reply that must wait for them to
    /// be on disk waits for this sequence.
    var pendingSequence: UInt64 { nextSequence }

    var hasPendingChanges: Bool {
        !dirty.isEmpty || !removed.isEmpty || !commits.isEmpty || !timelinesDirty.isEmpty || !timelinesRemoved.isEmpty
    }

    mutating func changed(_ key: ExactText, now: UInt64) {
        dirty.insert(key)
        if !removed.isEmpty { removed.remove(key) }
        if deadline == nil { deadline = now &+ interval }
    }

    mutating func removed(_ key: ExactText, now: UInt64) {
        dirty.remove(key)
        removed.insert(key)
        if deadline == nil { deadline = now &+ interval }
    }

    mutating func timelineChanged(_ key: ExactText, now: UInt64) {
        timelinesDirty.insert(key)
        timelinesRemoved.remove(key)
        if deadline == nil { deadline = now &+ interval }
    }

    mutating func timelineRemoved(_ key: ExactText, now: UInt64) {
        timelinesDirty.remove(key)
        timelinesRemoved.insert(key)
        if deadline == nil { deadline = now &+ interval }
    }

    mutating func record(_ commit: CommitRecord, now: UInt64) {
        commits.append(commit)
        if deadline == nil { deadline = now &+ interval }
    }

    /// Hands the pending changes to the store as one batch (nothing when there are none).
    mutating func flush(_ params: ParamTable, _ timelines: TimelineEngine, now: UInt64) {
        deadline = nil
        guard hasPendingChanges else { return }
        let batch = StoreBatch(
            sequence: nextSequence,
            upserts: dirty.compactMap { key in params[key]?.stored(at: String(key.text)) },
            removals: removed.map { String($0.text) },
            commits: commits,
            timelineUpserts: timelinesDirty.compactMap { key in
                let address = String(key.text)
                return timelines.definition(at: address).map { StoredTimeline(address: address, definition: $0) }
            },
            timelineRemovals: timelinesRemoved.map { String($0.text) })
        inFlight.append(InFlight(
            sequence: nextSequence, dirty: dirty, removed: removed, commits: commits,
            timelinesDirty: timelinesDirty, timelinesRemoved: timelinesRemoved, handedAt: now))
        nextSequence &+= 1
        dirty = []
        removed = []
        commits = []
        timelinesDirty = []
        timelinesRemoved = []
        store.write(batch)
    }

    /// Returns how long each batch now on disk took, from hand-over to written (ns).
    mutating func written(through sequence: UInt64, now: UInt64) -> [UInt64] {
        storedThrough = max(storedThrough, sequence)
        let done = inFlight.filter { $0.sequence <= sequence }.map { now &- $0.handedAt }
        inFlight.removeAll { $0.sequence <= sequence }
        return done
    }

    /// The batches up to `sequence` were not written: their changes join the next batch
    /// (unless a later change to the same address already replaced them).
    mutating func failed(through sequence: UInt64, now: UInt64) {
        let lost = inFlight.filter { $0.sequence <= sequence }
        inFlight.removeAll { $0.sequence <= sequence }
        for batch in lost {
            for key in batch.dirty where !removed.contains(key) { dirty.insert(key) }
            for key in batch.removed where !dirty.contains(key) { removed.insert(key) }
            commits.insert(contentsOf: batch.commits, at: 0)
            for key in batch.timelinesDirty where !timelinesRemoved.contains(key) { timelinesDirty.insert(key) }
            for key in batch.timelinesRemoved where !timelinesDirty.contains(key) { timelinesRemoved.insert(key) }
        }
        if hasPendingChanges, deadline == nil { deadline = now &+ interval }
    }
}
