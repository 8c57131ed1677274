using System.Collections.Concurrent;
using Prh.Alignment.Features;
using Prh.Alignment.Sketches;

namespace Prh.Alignment.Tests.Fixtures;

/// <summary>One sketch per fixture file for the whole test run, as the CLI's batch mode shares them.</summary>
public static class SketchCache
{
    private static readonly ConcurrentDictionary<string, Lazy<ModelSketch>> s_raw = new();
    private static readonly ConcurrentDictionary<string, Lazy<ModelSketch>> s_prepared = new();

    /// <summary>The file's features used as given (metric cases: rows already normalised).</summary>
    public static ModelSketch Raw(string relative) =>
        s_raw.GetOrAdd(relative, r => new Lazy<ModelSketch>(() => new ModelSketch(FixtureSet.Load(r)))).Value;

    /// <summary>The file's features clamped (at the manifest's pipeline quantile) and normalised.</summary>
    public static ModelSketch Prepared(string relative) =>
        s_prepared.GetOrAdd(relative, r => new Lazy<ModelSketch>(() =>
            new ModelSketch(FeaturePreparation.Prepare(FixtureSet.Load(r), FixtureSet.PipelineQuantile)))).Value;
}
