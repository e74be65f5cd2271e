/**
 * Jest reporter that ends the run with one plain line, "N passed, N failed, N skipped", so any CI
 * log reader can tell how many tests ran without knowing Jest's own summary format.
 */
class SummaryReporter {
  onRunComplete(_contexts, results) {
    const skipped = results.numPendingTests + results.numTodoTests;
    const line = `${results.numPassedTests} passed, ${results.numFailedTests} failed, ${skipped} skipped`;
    // At exit, so it is the last line, after Jest's own summary.
    process.on('exit', () => process.stderr.write(`\n${line}\n`));
  }
}
module.exports = SummaryReporter;
