extension Int64 {
    /// `self - other`, clamped to `Int64.min...Int64.max` instead of trapping: for differences
    /// of wire values (lag = log end − committed offset) that a broken broker can make absurd.
    func saturatingSubtracting(_ other: Int64) -> Int64 {
        let (d, overflow) = subtractingReportingOverflow(other)
        guard overflow else { return d }
        return other < 0 ? .max : .min
    }

    /// `self + other`, clamped instead of trapping (sums of lags).
    func saturatingAdding(_ other: Int64) -> Int64 {
        let (s, overflow) = addingReportingOverflow(other)
        guard overflow else { return s }
        return other > 0 ? .max : .min
    }
}
