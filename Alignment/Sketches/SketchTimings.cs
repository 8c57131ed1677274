using System.Diagnostics;

namespace Prh.Alignment.Sketches;

/// <summary>
/// Core-seconds a sketch build spent per step: the Grams, neighbour lists, kernels and SVCCA bases.
/// Layers run in parallel on every core, so the steps add up to about the cores times the wall time.
/// Thread-safe; one instance may gather many builds.
/// </summary>
public sealed class SketchTimings
{
    private long _grams, _neighbours, _kernels, _svcca;

    public double Grams => Seconds(ref _grams);
    public double NeighbourLists => Seconds(ref _neighbours);
    public double Kernels => Seconds(ref _kernels);
    public double Svcca => Seconds(ref _svcca);

    internal void AddGrams(long ticks) => Interlocked.Add(ref _grams, ticks);
    internal void AddNeighbourLists(long ticks) => Interlocked.Add(ref _neighbours, ticks);
    internal void AddKernels(long ticks) => Interlocked.Add(ref _kernels, ticks);
    internal void AddSvcca(long ticks) => Interlocked.Add(ref _svcca, ticks);

    private static double Seconds(ref long ticks) => (double)Interlocked.Read(ref ticks) / Stopwatch.Frequency;
}
