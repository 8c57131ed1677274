using System.Diagnostics;
using System.Globalization;
using Prh.Alignment.Compute;
using Prh.Alignment.Features;
using Prh.Alignment.IO;
using Prh.Alignment.Metrics;
using Prh.Alignment.Scoring;
using Prh.Alignment.Sketches;

namespace Prh.Bench;

/// <summary>
/// compute_score for one model pair (13 layers x D=768 against 25 layers x D=1024, N=1024, seeded
/// synthetic features) with mutual_knn@10, cka, unbiased_cka and cknna@10: per-phase seconds in this
/// process, the Gram step on both BLAS paths side by side, and, given the prh executable, each metric
/// as its own `prh score` process (the issue's goal). Stopwatch harness; every figure is one run of
/// a sequence measured together, so compare ratios, not absolute seconds across machines.
/// Usage: prh-bench [--prh PATH] [--samples N] [--repeat R] [--data DIR (keep the generated files there)]
/// </summary>
public static class ComputeScoreBenchmark
{
    private static readonly string[] s_metrics = ["mutual_knn", "cka", "unbiased_cka", "cknna"];

    public static int Run(string[] args)
    {
        string? prh = Option(args, "--prh");
        int n = int.Parse(Option(args, "--samples") ?? "1024", CultureInfo.InvariantCulture);
        int repeat = int.Parse(Option(args, "--repeat") ?? "3", CultureInfo.InvariantCulture);
        string? keep = Option(args, "--data");
        string folder = keep ?? Directory.CreateTempSubdirectory("prh-bench-").FullName;
        Directory.CreateDirectory(folder);
        try
        {
            var x = SyntheticZoo.Model("x", n, 13, 768, seed: 11);
            var y = SyntheticZoo.Model("y", n, 25, 1024, seed: 12);
            string pathX = Path.Combine(folder, "x.npy"), pathY = Path.Combine(folder, "y.npy");
            FeatureFile.Save(pathX, x);
            FeatureFile.Save(pathY, y);
            Console.WriteLine($"model pair: 13 x 768 and 25 x 1024 layers, N = {n}, {13 * 25} layer pairs; float32 .npy files in {folder}");
            Console.WriteLine($"machine: {Environment.ProcessorCount} cores; BLAS: {Blas.Default.Description}");
            Console.WriteLine();

            GramPaths(x, y, n);
            InProcess(pathX, pathY, n, repeat);
            if (prh is not null) Processes(prh, pathX, pathY, repeat);
            else Console.WriteLine("(pass --prh PATH/TO/prh to time each metric as its own `prh score` process)");
            return 0;
        }
        finally
        {
            if (keep is null) Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>The Gram step of both models on OpenBLAS and on the managed SIMD fallback, side by side.</summary>
    private static void GramPaths(ModelFeatures x, ModelFeatures y, int n)
    {
        double flops = (x.Layers.Concat(y.Layers).Sum(l => (double)l.Width)) * n * n; // SYRK: N^2 D multiply-adds' worth
        var paths = new List<IBlas>();
        if (OpenBlas.TryLoad(out var openBlas)) paths.Add(openBlas);
        paths.Add(ManagedBlas.Instance);
        Console.WriteLine("Gram step (all 38 layers, layers in parallel, 1 BLAS thread each); GFLOP/s counts N^2 D per layer (SYRK)");
        Console.WriteLine($"{"BLAS path",-52} {"seconds",8} {"GFLOP/s",8}");
        var layers = FeaturePreparation.Prepare(x).Layers.Concat(FeaturePreparation.Prepare(y).Layers).ToList();
        foreach (var blas in paths)
        {
            // As the sketches do: layers in parallel, each worker reusing one N x N buffer.
            var sw = Stopwatch.StartNew();
            Parallel.For(0, layers.Count, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount },
                () => new double[n * n], (l, _, buffer) => { blas.Syrk(layers[l].Data, n, layers[l].Width, buffer); return buffer; }, _ => { });
            double s = sw.Elapsed.TotalSeconds;
            Console.WriteLine($"{blas.Description,-52} {s,8:F3} {flops / s / 1e9,8:F1}");
        }
        Console.WriteLine();
    }

    /// <summary>Each metric from the files, fresh sketches each time, phase by phase (best of the repeats).</summary>
    private static void InProcess(string pathX, string pathY, int n, int repeat)
    {
        Console.WriteLine($"in-process compute_score, best of {repeat}: open = check both headers; prepare = the clamp threshold (one pass over each file);");
        Console.WriteLine("sketch = each layer read, clamped, normalised, its Gram, then neighbour lists or centred kernels; pairs = all 325 layer pairs from the sketches");
        Console.WriteLine($"{"metric",-14} {"open",7} {"prepare",8} {"sketch",7} {"pairs",7} {"total",7} {"s/pair",9} {"best",8}");
        double sum = 0;
        foreach (string metric in s_metrics)
        {
            double[] best = Enumerable.Repeat(double.MaxValue, 5).ToArray();
            LayerScores? result = null;
            for (int r = 0; r < repeat; r++)
            {
                var t = new double[5];
                var sw = Stopwatch.StartNew();
                var rawX = FeatureFile.Open(pathX);
                var rawY = FeatureFile.Open(pathY);
                t[0] = Lap(sw);
                var sx = new ModelSketch(FeaturePreparation.Prepare(rawX));
                var sy = new ModelSketch(FeaturePreparation.Prepare(rawY));
                t[1] = Lap(sw);
                var spec = MetricSpec.ForComputeScore(metric, 10);
                foreach (var s in new[] { sx, sy })
                {
                    if (spec.Kind.UsesTopK()) s.Neighbours(0, 10);
                    else s.Kernels(KernelFunction.InnerProduct);
                }
                t[2] = Lap(sw);
                result = AlignmentScoring.ComputeScore(sx, sy, spec);
                t[3] = Lap(sw);
                t[4] = t[0] + t[1] + t[2] + t[3];
                for (int i = 0; i < 5; i++) best[i] = Math.Min(best[i], t[i]);
            }
            sum += best[4];
            Console.WriteLine($"{metric,-14} {best[0],7:F3} {best[1],8:F3} {best[2],7:F3} {best[3],7:F3} {best[4],7:F3} {best[4] / 325,9:E2} {result!.BestScore,8:F4}");
        }
        Console.WriteLine($"{"four metrics",-14} {"",7} {"",8} {"",7} {"",7} {sum,7:F3}");
        Console.WriteLine();
    }

    /// <summary>Each metric as its own `prh score X Y --metric M --json` process, as users and tools run it.</summary>
    private static void Processes(string prh, string pathX, string pathY, int repeat)
    {
        Console.WriteLine($"separate processes: `prh score x.npy y.npy --metric M --topk 10 --json`, wall clock, best of {repeat}");
        Console.WriteLine($"{"metric",-14} {"seconds",8} {"reference s",12} {"speed-up",9}");
        // The authors' code on a 2-core machine (torch CPU + OpenBLAS, same shapes), as the issue
        // measured it: seconds per layer pair for each metric, and about 360 s for the four metrics
        // over the 325 layer pairs with their feature preparation.
        var perPair = new Dictionary<string, double> { ["mutual_knn"] = 0.17, ["cka"] = 0.17, ["unbiased_cka"] = 0.07, ["cknna"] = 0.18 };
        const double ReferenceTotal = 360;
        double total = 0;
        foreach (string metric in s_metrics)
        {
            double best = double.MaxValue;
            for (int r = 0; r < repeat; r++)
            {
                var psi = new ProcessStartInfo(prh) { RedirectStandardOutput = true, RedirectStandardError = true };
                foreach (string a in new[] { "score", pathX, pathY, "--metric", metric, "--topk", "10", "--json" }) psi.ArgumentList.Add(a);
                var sw = Stopwatch.StartNew();
                using var p = Process.Start(psi)!;
                string stdout = p.StandardOutput.ReadToEnd();
                string stderr = p.StandardError.ReadToEnd();
                p.WaitForExit();
                double s = sw.Elapsed.TotalSeconds;
                if (p.ExitCode != 0) throw new InvalidOperationException($"prh score failed ({p.ExitCode}): {stderr}");
                if (!stdout.Contains("\"best_score\"")) throw new InvalidOperationException($"unexpected prh output: {stdout}");
                best = Math.Min(best, s);
            }
            double refSeconds = perPair[metric] * 325;
            total += best;
            Console.WriteLine($"{metric,-14} {best,8:F3} {refSeconds,12:F1} {refSeconds / best,8:F0}x   (reference: {perPair[metric]} s per layer pair, preparation excluded)");
        }
        Console.WriteLine($"{"four metrics",-14} {total,8:F3} {ReferenceTotal,12:F1} {ReferenceTotal / total,8:F0}x   (the issue's ~360 s for the four; its goal: under 2 " +
            $"s, 180x)");
    }

    private static double Lap(Stopwatch sw)
    {
        double s = sw.Elapsed.TotalSeconds;
        sw.Restart();
        return s;
    }

    private static string? Option(string[] args, string name)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }
}
