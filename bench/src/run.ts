// Benchmark entry (filled in by the benchmark work).
export {};
