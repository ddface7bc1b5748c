import Foundation

/// A progress bar redrawn in place on standard error (`shelf import`, the start-up loader on a terminal).
public enum TerminalProgress {
    /// Redraws `[####....] done/total suffix` after `label`.
    public static func draw(_ label: String, done: Int, total: Int, suffix: String = "") {
        let width = 40
        let filled = total <= 0 ? width : min(width, width * done / total)
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        FileHandle.standardError.write(Data("\r\(label)[\(bar)] \(done)/\(total)\(suffix)".utf8))
    }

    /// Ends the bar's line.
    public static func finish() { FileHandle.standardError.write(Data("\n".utf8)) }
}
