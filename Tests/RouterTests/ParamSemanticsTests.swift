import CLASP
import Router
import Testing

/// Locks, conflict strategies, value constraints, TTLs (design §7).
@Suite struct ParamSemanticsTests {
    /// A rule; `nil` (and so a failing test) if the pattern does not parse.
    private func rule(_ pattern: String, _ strategy: ConflictStrategy = .lww, constraint: ValueConstraint = ValueConstraint()) -> ParamRule? {
        (try? AddressPattern(pattern)).map { ParamRule(pattern: $0, strategy: strategy, constraint: constraint) }
    }

    private func revisions(_ messages: [Message]) -> [UInt64?] {
        messages.compactMap { if case .set(let set) = $0 { set.revision } else { nil } }
    }

    @Test func aLockedParamRefusesOtherWritersWith401NamingTheHolder() {
        let h = Harness()
        let holder = h.session("holder")
        let other = h.session("other")
        h.set("/desk/master", .float(0.5), lock: true, from: holder)
        h.set("/desk/master", .float(0.9), from: other)
        let errors = other.takeErrors()
        #expect(errors.map(\.code) == [401])
        #expect(errors.first?.message == "lock held by \(holder.sessionID)")
        #expect(errors.first?.address == "/desk/master")
        // The holder keeps writing.
        h.set("/desk/master", .float(0.7), qos: .confirm, from: holder)
        #expect(holder.takeErrors().isEmpty)
    }

    @Test func onlyTheHolderCanUnlock() {
        let h = Harness()
        let holder = h.session("holder")
        let other = h.session("other")
        h.set("/a", .int(1), lock: true, from: holder)
        // The reference lets a non-holder write by setting the unlock flag; we refuse it.
        h.set("/a", .int(2), unlock: true, from: other)
        #expect(other.takeErrors().first?.message == "only the lock holder can unlock; lock held by \(holder.sessionID)")
        h.send(.get(Get(address: "/a")), from: other)
        guard case .snapshot(let snapshot)? = other.take().first else {
            Issue.record("no snapshot")
            return
        }
        #expect(snapshot.params.first?.value == .int(1))
        h.set("/a", .int(3), unlock: true, from: holder)
        h.set("/a", .int(4), from: other)
        #expect(other.takeErrors().isEmpty)
    }

    @Test func aLockIsReleasedWhenItsHolderDisconnects() {
        let h = Harness()
        let holder = h.session("holder")
        let other = h.session("other")
        h.set("/a", .int(1), lock: true, from: holder)
        h.disconnect(holder)
        h.set("/a", .int(2), from: other)
        #expect(other.takeErrors().isEmpty)
    }

    @Test func aLockIsReleasedWhenItsHoldersSessionTimesOut() {
        let h = Harness { $0.idleTimeout = 10 }
        let holder = h.session("holder")
        let other = h.session("other")
        h.set("/a", .int(1), lock: true, from: holder)
        h.clock.advance(seconds: 6)
        h.send(.ping, from: other)
        h.clock.advance(seconds: 5)
        h.router.tick()
        #expect(holder.closeReason == .idleTimeout)
        #expect(!other.isClosed)
        h.set("/a", .int(2), from: other)
        #expect(other.takeErrors().isEmpty)
    }

    @Test func theLockStrategyMakesTheFirstWriterTheHolder() {
        let h = Harness { $0.paramRules = [self.rule("/stage/**", .lock)].compactMap { $0 } }
        let first = h.session("first")
        let second = h.session("second")
        h.set("/stage/spot", .int(1), from: first)
        h.set("/stage/spot", .int(2), from: second)
        #expect(second.takeErrors().map(\.code) == [401])
        h.set("/elsewhere", .int(1), from: first)
        h.set("/elsewhere", .int(2), from: second)
        #expect(second.takeErrors().isEmpty)
        h.disconnect(first)
        h.set("/stage/spot", .int(3), from: second)
        #expect(second.takeErrors().isEmpty)
    }

    @Test func maxAndMinKeepTheExtremeAndSayWhyTheyRefuse() {
        let h = Harness { $0.paramRules = [self.rule("/peak", .max), self.rule("/low", .min)].compactMap { $0 } }
        let peer = h.session()
        h.subscribe(peer, "/**")
        for value in [3.0, 1.0, 5.0, 5.0] { h.set("/peak", .float(value), from: peer) }
        for value: Int64 in [3, 4, 1] { h.set("/low", .int(value), from: peer) }
        let messages = peer.take()
        let errors = messages.compactMap { if case .error(let e) = $0 { e } else { nil } }
        #expect(errors.map(\.message) == [
            "conflict strategy max: 1 is not above the current 3",
            "conflict strategy max: 5 is not above the current 5",
            "conflict strategy min: 4 is not below the current 3",
        ])
        #expect(errors.allSatisfy { $0.code == 400 })
        let values = messages.compactMap { if case .set(let set) = $0 { set.value } else { nil } }
        #expect(values == [.float(3), .float(5), .int(3), .int(1)])
        // An int compares with a float; a non-number replaces a number.
        h.set("/peak", .int(6), from: peer)
        h.set("/peak", .string("off"), from: peer)
        #expect(peer.takeErrors().isEmpty)
    }

    @Test func constraintsRefuseTheWrongTypeOrRangeWith402() {
        let h = Harness {
            $0.paramRules = [
                self.rule("/dimmer/*", constraint: ValueConstraint(kinds: [.number], minimum: 0, maximum: 1)),
                self.rule("/name", constraint: ValueConstraint(kinds: [.string])),
                self.rule("/dimmer/**", constraint: ValueConstraint(kinds: [.bool])),
            ].compactMap { $0 }
        }
        let peer = h.session()
        h.set("/dimmer/1", .float(0.5), from: peer)
        h.set("/dimmer/1", .int(1), from: peer)
        h.set("/dimmer/1", .float(1.5), from: peer)
        h.set("/dimmer/1", .int(-1), from: peer)
        h.set("/dimmer/1", .float(.nan), from: peer)
        h.set("/dimmer/1", .string("full"), from: peer)
        h.set("/name", .int(3), from: peer)
        h.set("/name", .string("house"), from: peer)
        // The first matching rule wins: /dimmer/1 is a number, not a bool.
        h.set("/dimmer/1", .bool(true), from: peer)
        h.set("/dimmer/a/b", .bool(true), from: peer)
        let errors = peer.takeErrors()
        #expect(errors.allSatisfy { $0.code == 402 })
        #expect(errors.map(\.message) == [
            "invalid value for /dimmer/1: 1.5 is above the maximum 1",
            "invalid value for /dimmer/1: -1 is below the minimum 0",
            "invalid value for /dimmer/1: expected a number, got float",
            "invalid value for /dimmer/1: expected number, got string",
            "invalid value for /name: expected string, got int",
            "invalid value for /dimmer/1: expected number, got bool",
        ])
    }

    @Test func aSlidingTTLExpiresThatLongAfterTheLastWriteAndTellsSubscribers() {
        let h = Harness()
        let writer = h.session("writer")
        let watcher = h.session("watcher")
        h.subscribe(watcher, "/presence/**")
        h.set("/presence/alice", .bool(true), ttl: .sliding(seconds: 2), from: writer)
        h.advance(seconds: 1.5)
        h.set("/presence/alice", .bool(true), from: writer)  // keeps the TTL, restarts it
        h.advance(seconds: 1.5)
        #expect(revisions(watcher.take()) == [1, 2])
        h.advance(seconds: 0.6)
        let expired = watcher.take()
        #expect(expired == [.set(SetMessage(address: "/presence/alice", value: .null, revision: 3))])
        h.send(.get(Get(address: "/presence/alice")), from: watcher)
        #expect(watcher.takeErrors().map(\.code) == [201])
        #expect(h.router.paramCount == 0)
        // A later SET recreates it.
        h.set("/presence/alice", .bool(true), from: writer)
        #expect(revisions(watcher.take()) == [1])
    }

    @Test func anAbsoluteTTLDoesNotMoveWithLaterWrites() {
        let h = Harness()
        let peer = h.session()
        h.set("/cue", .int(1), ttl: .absolute(seconds: 2), from: peer)
        h.advance(seconds: 1.5)
        h.set("/cue", .int(2), from: peer)
        h.advance(seconds: 0.6)
        #expect(h.router.paramCount == 0)
        // A new TTL on the SET starts a new period; `never` clears it.
        h.set("/cue", .int(3), ttl: .absolute(seconds: 1), from: peer)
        h.set("/cue", .int(4), ttl: .never, from: peer)
        h.advance(seconds: 5)
        #expect(h.router.paramCount == 1)
    }

    @Test func aTTLAsksForAWakeUpAtItsExpiry() {
        let h = Harness()
        let peer = h.session()
        let start = h.clock.monotonicNanoseconds()
        h.set("/x", .int(1), ttl: .sliding(seconds: 3), from: peer)
        #expect(h.wakeUps.last == start + 3_000_000_000)
    }

    @Test func aSecondSubscriptionSendsOnlyParamsTheSessionDoesNotHaveYet() {
        let h = Harness()
        let writer = h.session("writer")
        for address in ["/a/1", "/a/2", "/b/1"] { h.set(address, .int(1), from: writer) }
        let reader = h.session("reader")
        h.subscribe(reader, "/a/**", id: 1)
        h.subscribe(reader, "/**", id: 2)
        h.subscribe(reader, "/a/1", id: 3)
        let snapshots = reader.take().compactMap { if case .snapshot(let s) = $0 { s.params.map(\.address) } else { nil } }
        #expect(snapshots == [["/a/1", "/a/2"], ["/b/1"]])
        // A subscription that does not admit params covers nothing.
        let other = h.session("other")
        h.subscribe(other, "/**", id: 1, types: [.event])
        h.subscribe(other, "/a/**", id: 2)
        let fromOther = other.take().compactMap { if case .snapshot(let s) = $0 { s.params.map(\.address) } else { nil } }
        #expect(fromOther == [["/a/1", "/a/2"]])
    }

    @Test func lateJoinersShareOneEncodingUntilAParamChanges() {
        let h = Harness()
        let writer = h.session("writer")
        for index in 0..<100 { h.set("/p/\(index)", .int(Int64(index)), from: writer) }
        let first = h.session("first")
        let second = h.session("second")
        h.subscribe(first, "/p/**")
        h.subscribe(second, "/p/**")
        #expect(first.frames.map(\.bytes) == second.frames.map(\.bytes))
        #expect(!first.frames.isEmpty)
        h.set("/p/0", .int(-1), from: writer)
        let third = h.session("third")
        h.subscribe(third, "/p/**")
        let values = third.take().compactMap { if case .snapshot(let s) = $0 { s.params.first { $0.address == "/p/0" }?.value } else { nil } }
        #expect(values == [.int(-1)])
    }
}
