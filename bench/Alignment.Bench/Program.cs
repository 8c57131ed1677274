using Prh.Bench;

return args.FirstOrDefault() switch
{
    "extraction" => ExtractionBenchmark.Run(args[1..]),
    "allpairs" => await AllPairsBenchmark.Run(args[1..]),
    "calibrate" => CalibrateBenchmark.Run(args[1..]),
    _ => ComputeScoreBenchmark.Run(args),
};
