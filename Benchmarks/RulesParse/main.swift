import Foundation
import ShelfRules

// rules-parse-bench: parses every sentence of rules-examples.jsonl many times and prints per-sentence latency.
//
//   rules-parse-bench [path/to/rules-examples.jsonl] [rounds]
//   rules-parse-bench --parse "When SKU-9 sells out, pause it on Amazon."   (prints the envelope and caret diagram)

func locateCorpus() -> String? {
    var directory = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
    while true {
        for candidate in ["fixtures/rules/rules-examples.jsonl"] {
            let url = directory.appendingPathComponent(candidate).standardizedFileURL
            if FileManager.default.fileExists(atPath: url.path) { return url.path }
        }
        if directory.path == "/" { return nil }
        directory = directory.deletingLastPathComponent()
    }
}

func nanoseconds() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

/// CPU time of this thread, which excludes time the thread was not running (other builds share the machine).
func threadNanoseconds() -> UInt64 {
    var spec = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &spec)
    return UInt64(spec.tv_sec) * 1_000_000_000 + UInt64(spec.tv_nsec)
}

func percentile(_ sorted: [Double], _ fraction: Double) -> Double {
    guard !sorted.isEmpty else { return 0 }
    let index = min(sorted.count - 1, max(0, Int((Double(sorted.count - 1) * fraction).rounded())))
    return sorted[index]
}

let arguments = Array(CommandLine.arguments.dropFirst())
if arguments.first == "--parse" {
    for sentence in arguments.dropFirst() {
        let result = RuleParser.parse(sentence, catalog: .demo)
        print((try? RuleJSON.canonicalString(result)) ?? "encoding failed")
        if let error = result.error { print(error.caretDiagram(for: sentence)) }
    }
    exit(0)
}

let roundsFirst = arguments.first.flatMap { Int($0) }
guard let path = (roundsFirst == nil ? arguments.first : nil) ?? locateCorpus() else {
    FileHandle.standardError.write(Data("rules-examples.jsonl not found; pass its path as the first argument\n".utf8))
    exit(2)
}
let rounds = roundsFirst ?? (arguments.count > 1 ? Int(arguments[1]) ?? 2000 : 2000)
guard let content = try? String(contentsOfFile: path, encoding: .utf8) else {
    FileHandle.standardError.write(Data("cannot read \(path)\n".utf8))
    exit(2)
}
let sentences: [String] = content.split(separator: "\n").compactMap { line in
    (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["text"] as? String
}
let catalog = RuleCatalog.demo
var accepted = 0
for sentence in sentences where RuleParser.parse(sentence, catalog: catalog).ok { accepted += 1 }
for _ in 0..<50 { for sentence in sentences { _ = RuleParser.parse(sentence, catalog: catalog) } }

var samples: [Double] = []
var cpuSamples: [Double] = []
samples.reserveCapacity(rounds * sentences.count)
cpuSamples.reserveCapacity(rounds * sentences.count)
var perSentence = [[Double]](repeating: [], count: sentences.count)
for _ in 0..<rounds {
    for (index, sentence) in sentences.enumerated() {
        let cpuStart = threadNanoseconds()
        let start = nanoseconds()
        let result = RuleParser.parse(sentence, catalog: catalog)
        let elapsed = Double(nanoseconds() - start) / 1000
        cpuSamples.append(Double(threadNanoseconds() - cpuStart) / 1000)
        if result.ok && result.rule == nil { print("impossible") }
        samples.append(elapsed)
        perSentence[index].append(elapsed)
    }
}
samples.sort()
cpuSamples.sort()
print("rules-parse-bench: \(sentences.count) sentences (\(accepted) accepted) × \(rounds) rounds = \(samples.count) parses")
print(
    String(
        format: "wall clock per sentence: median %.1f µs, p99 %.1f µs, mean %.1f µs, max %.1f µs",
        percentile(samples, 0.5),
        percentile(samples, 0.99),
        samples.reduce(0, +) / Double(samples.count),
        samples.last ?? 0
    )
)
print(String(format: "thread CPU time: median %.1f µs, p99 %.1f µs", percentile(cpuSamples, 0.5), percentile(cpuSamples, 0.99)))
let slowest = perSentence.enumerated().map { ($0.offset, percentile($0.element.sorted(), 0.5)) }.sorted { $0.1 > $1.1 }.prefix(3)
for (index, median) in slowest {
    print(String(format: "  slowest median %.1f µs: %@", median, sentences[index]))
}
