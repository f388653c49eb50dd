import CFuzzerDriver
import Foundation

// libFuzzer's command line (corpus dirs, -max_total_time, …) goes straight to its driver.
_ = selectedTarget
var argc = CommandLine.argc
var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&argc, &argv) { data, size in fuzzOneInput(data, size) })
