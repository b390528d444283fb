import CLASP
import Router
import Testing

@Suite struct MalformedInputTests {
    @Test func aMalformedFrameAfterHelloGetsAnErrorAndTheConnectionSurvives() {
        let harness = Harness()
        let peer = harness.session()
        harness.sendRaw([0x53, 0x01, 0x00, 0x05, 0x21], from: peer)  // length longer than data
        #expect(peer.takeErrors().map(\.code) == [100])
        harness.sendRaw([0x53, 0x01, 0x00, 0x01, 0x05], from: peer)  // unknown message type
        #expect(peer.takeErrors().map(\.code) == [101])
        harness.send(.ping, from: peer)
        #expect(peer.take() == [.pong])
        #expect(!peer.isClosed)
    }

    @Test func aTextMessageGetsError101() {
        let harness = Harness()
        let peer = harness.session()
        if let id = peer.id { harness.router.receiveText(from: id) }
        #expect(peer.takeErrors().map(\.code) == [101])
        #expect(!peer.isClosed)
    }

    @Test func repeatedGarbageClosesOnlyThatConnection() {
        let harness = Harness { $0.maxBadFramesPerSecond = 100 }
        let bad = harness.session()
        let good = harness.session()
        for _ in 0..<100 { harness.sendRaw([0xFF], from: bad) }
        #expect(!bad.isClosed)
        harness.sendRaw([0xFF], from: bad)
        #expect(bad.closeReason == .tooManyBadFrames)
        harness.send(.ping, from: good)
        #expect(good.take() == [.pong])
    }

    @Test func badFramesAreCountedPerSecond() {
        let harness = Harness { $0.maxBadFramesPerSecond = 10 }
        let peer = harness.session()
        for _ in 0..<5 {
            for _ in 0..<10 { harness.sendRaw([0xFF], from: peer) }
            harness.clock.advance(seconds: 1.01)
        }
        #expect(!peer.isClosed)
    }

    @Test func aSetToAnAddressStartingWithAMultibyteCharacterIsRefused() {
        // Vector set_address_non_ascii_first_char: the reference stores it, then panics.
        let harness = Harness()
        let peer = harness.session()
        harness.sendRaw([UInt8](hex: "5341000e21050002c3a90000000000000001"), from: peer)
        let errors = peer.takeErrors()
        #expect(errors.map(\.code) == [200])
        #expect(errors.first?.address == "é")
        #expect(harness.router.paramCount == 0)
    }

    @Test func patternsWithoutLeadingSlashOrWithEmptySegmentsGetTheReferenceTexts() {
        let harness = Harness()
        let peer = harness.session()
        harness.sendRaw([UInt8](hex: "53410012100000000900096c69676874732f2a2aff00"), from: peer)
        harness.sendRaw([UInt8](hex: "5341000e100000000a00052f612f2f62ff00"), from: peer)
        let errors = peer.takeErrors()
        #expect(errors.map(\.code) == [202, 202])
        #expect(errors.first?.message == "invalid address: address must start with '/': lights/**")
        #expect(errors.first?.address == "lights/**")
        #expect(errors.last?.message == "invalid address: empty segment in address: /a//b")
        #expect(errors.last?.address == "/a//b")
    }

    @Test func federationSyncFromANonPeerIsForbidden() {
        let harness = Harness()
        let peer = harness.session()
        harness.sendRaw([UInt8](hex: "5341000e0401000100052f782f2a2a000000"), from: peer)
        let errors = peer.takeErrors()
        #expect(errors.map(\.code) == [403])
        #expect(errors.first?.message == "FederationSync requires federation feature")
        #expect(errors.first?.address == nil)
    }

    @Test func invalidWriteAddressesAreRefusedWith200() {
        let harness = Harness()
        let peer = harness.session()
        for address in ["", "foo", "/a//b", "/a/*", "/a/"] {
            harness.set(address, .int(1), from: peer)
            harness.send(.publish(Publish(address: address, signal: .event)), from: peer)
        }
        #expect(peer.takeErrors().map(\.code) == Array(repeating: 200, count: 10))
        #expect(harness.router.paramCount == 0)
    }
}
