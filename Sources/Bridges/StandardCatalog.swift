extension BridgeCatalog {
    /// Every bridge kind in this build. A new bridge folder adds its kind here.
    public static let standard = BridgeCatalog([.dmx, .sacn, .artnet])
}
