import NIOCore

/// The multicast group and broadcast addresses of a UDP transport: which datagrams are group
/// frames (by their destination), where group updates are sent, and which datagrams are our
/// own sends looped back (dropped, so an update never comes back in as a write).
struct UDPGroups: Sendable {
    /// Where group updates go (the multicast group and/or the broadcast address, our port).
    private(set) var destinations: [SocketAddress] = []
    private let multicastGroup: SocketAddress?
    private let multicastDevice: NIONetworkDevice?
    private let configuration: UDPServer.Configuration
    /// Destination IPs that mark a datagram as a group frame.
    private let groupIPs: Set<String>
    /// This host's addresses: a datagram from one of them and our port is our own.
    private let localIPs: Set<String>

    init(configuration: UDPServer.Configuration) throws {
        self.configuration = configuration
        let devices = configuration.usesGroups ? (try? System.enumerateDevices()) ?? [] : []
        localIPs = Set(devices.compactMap { $0.address?.ipAddress })
        var groupIPs: Set<String> = []
        if let group = configuration.multicastGroup {
            let address: SocketAddress
            do {
                address = try SocketAddress(ipAddress: group, port: configuration.port)
            } catch {
                throw UDPServer.StartError(description: "multicast group \(group) is not an IPv4 address")
            }
            guard case .v4 = address, Self.isMulticast(group) else {
                throw UDPServer.StartError(description: "multicast group \(group) is not an IPv4 multicast address (224.0.0.0/4)")
            }
            multicastGroup = address
            groupIPs.insert(group)
            if let interface = configuration.multicastInterface {
                guard
                    let device = devices.first(where: {
                        ($0.name == interface || $0.address?.ipAddress == interface) && $0.address?.protocol == .inet
                    })
                else {
                    throw UDPServer.StartError(description: "multicast interface \(interface) has no IPv4 address on this host")
                }
                multicastDevice = device
            } else {
                multicastDevice = nil
            }
        } else {
            multicastGroup = nil
            multicastDevice = nil
        }
        if configuration.broadcast {
            groupIPs.insert("255.255.255.255")
            groupIPs.insert(configuration.broadcastAddress)
            for device in devices {
                if let ip = device.broadcastAddress?.ipAddress { groupIPs.insert(ip) }
            }
        }
        self.groupIPs = groupIPs
    }

    /// Joins the multicast group and sets the sending interface, TTL and loop; fixes the
    /// destinations to the port actually bound.
    mutating func join(_ channel: any Channel) async throws {
        let port = channel.localAddress?.port ?? configuration.port
        if let group = multicastGroup {
            guard let multicast = channel as? any MulticastChannel, let options = channel as? any SocketOptionProvider else {
                throw UDPServer.StartError(description: "this socket cannot join a multicast group")
            }
            let member = try SocketAddress(ipAddress: group.ipAddress ?? "", port: port)
            try await multicast.joinGroup(member, device: multicastDevice).get()
            if let device = multicastDevice, case .v4(let address)? = device.address {
                try await options.setIPMulticastIF(address.address.sin_addr).get()
            }
            try await options.setIPMulticastTTL(CUnsignedChar(clamping: configuration.multicastTTL)).get()
            try await options.setIPMulticastLoop(configuration.multicastLoop ? 1 : 0).get()
            destinations.append(member)
        }
        if configuration.broadcast {
            do {
                destinations.append(try SocketAddress(ipAddress: configuration.broadcastAddress, port: port))
            } catch {
                throw UDPServer.StartError(description: "broadcast address \(configuration.broadcastAddress) is not an IP address")
            }
        }
    }

    /// The datagram was sent to the group or a broadcast address.
    func isGroupFrame(_ metadata: AddressedEnvelope<ByteBuffer>.Metadata?) -> Bool {
        guard !groupIPs.isEmpty, let ip = metadata?.packetInfo?.destinationAddress.ipAddress else { return false }
        return groupIPs.contains(ip)
    }

    /// The datagram is one we sent, looped back by multicast or broadcast.
    func isOwn(_ source: SocketAddress, localPort: Int) -> Bool {
        guard source.port == localPort, let ip = source.ipAddress else { return false }
        return localIPs.contains(ip)
    }

    private static func isMulticast(_ ip: String) -> Bool {
        guard let first = ip.split(separator: ".").first.flatMap({ Int($0) }) else { return false }
        return (224...239).contains(first)
    }
}
