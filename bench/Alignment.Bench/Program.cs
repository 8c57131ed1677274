using Prh.Bench;

return args.FirstOrDefault() == "extraction" ? ExtractionBenchmark.Run(args[1..]) : ComputeScoreBenchmark.Run(args);
