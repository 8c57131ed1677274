using Prh.Bench;

return ComputeScoreBenchmark.Run(args);
