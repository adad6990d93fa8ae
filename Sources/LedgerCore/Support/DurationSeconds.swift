extension Duration {
    /// The duration in seconds, as a `Double`: for reports and benchmarks, never for anything signed.
    public var inSeconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
