using Prh.Alignment.Features;
using Prh.Alignment.Metrics;
using Prh.Alignment.Scoring;
using Prh.Alignment.Sketches;

namespace Prh.Cluster.Tests.Specs;

/// <summary>
/// A metric's one name (<see cref="MetricSpec.Key"/>), read back by <see cref="MetricSpec.Parse"/>, and
/// what a sweep may assume of a metric: which matrices it mirrors and which layer pairs it transposes.
/// </summary>
public sealed class MetricSpecTests
{
    /// <summary>Every metric with every option it takes, as compute_score and the reference's functions take them.</summary>
    public static TheoryData<string, Dictionary<string, object?>> Configurations()
    {
        var data = new TheoryData<string, Dictionary<string, object?>>();
        foreach (string knn in new[] { "mutual_knn", "cycle_knn", "lcs_knn", "edit_distance_knn" })
            foreach (object? topk in new object?[] { 1L, 10L, 500L, null })
                data.Add(knn, new() { ["topk"] = topk });
        foreach (string cka in new[] { "cka", "unbiased_cka" })
            foreach (bool unbiased in new[] { false, true })
            {
                data.Add(cka, new() { ["unbiased"] = unbiased });
                foreach (double sigma in new[] { 1.0, 0.5, 2.75, 1e-5, 3e300, -0.5, 1.0 / 3 })
                    data.Add(cka, new() { ["kernel_metric"] = "rbf", ["rbf_sigma"] = sigma, ["unbiased"] = unbiased });
            }
        foreach (long topk in new[] { 2L, 10L, 64L })
            foreach (bool unbiased in new[] { false, true })
                data.Add("cknna", new() { ["topk"] = topk, ["unbiased"] = unbiased });
        foreach (long dim in new[] { 1L, 10L, 20L })
            data.Add("svcca", new() { ["cca_dim"] = dim });
        return data;
    }

    [Theory]
    [MemberData(nameof(Configurations))]
    public void The_key_reads_back_as_the_same_metric(string metric, Dictionary<string, object?> kwargs)
    {
        var spec = MetricSpec.Create(metric, kwargs);
        var read = MetricSpec.Parse(spec.Key);
        Assert.Equal(spec, read);
        Assert.Equal(spec.Key, read.Key);
    }

    [Theory]
    [InlineData("mutual_knn", "mutual_knn@10")] // compute_score's topk
    [InlineData("cknna", "cknna@10")]
    [InlineData("mutual_knn@all", "mutual_knn@all")]
    [InlineData("cka", "cka")]
    [InlineData("unbiased_cka-unbiased", "unbiased_cka")]
    [InlineData("cka-rbf", "cka-rbf-s1")] // the reference's default sigma
    [InlineData("cka-unbiased-s0.25-rbf", "cka-rbf-s0.25-unbiased")]
    [InlineData("cknna@5-unbiased", "cknna@5")]
    [InlineData("svcca-d10", "svcca")] // the default cca_dim
    public void A_shorter_form_reads_as_the_metric_of_its_key(string text, string key) => Assert.Equal(key, MetricSpec.Parse(text).Key);

    [Theory]
    [InlineData("cosine", "ValueError", "Unrecognized metric: 'cosine'; expected one of mutual_knn, cycle_knn, lcs_knn, edit_distance_knn, cka, unbiased_cka, cknna, svcca")]
    [InlineData("", "ValueError", "Unrecognized metric: ''; expected one of")]
    [InlineData("mutual_knn@ten", "ValueError", "metric 'mutual_knn@ten': topk 'ten' is not an integer")]
    [InlineData("mutual_knn@0", "ValueError", "mutual_knn: topk must be at least 1, got 0")]
    [InlineData("mutual_knn@-3", "ValueError", "mutual_knn: topk must be at least 1, got -3")]
    [InlineData("cknna@1", "ValueError", "CKNNA requires topk >= 2")]
    [InlineData("cka@10", "ValueError", "metric 'cka@10': cka takes no topk")]
    [InlineData("cka-poly", "ValueError", "metric 'cka-poly': 'poly' is not rbf, unbiased, biased, s<sigma> or d<cca_dim>")]
    [InlineData("cka-rbf-sx", "ValueError", "metric 'cka-rbf-sx': 'sx' is not rbf, unbiased, biased, s<sigma> or d<cca_dim>")]
    [InlineData("svcca-d0", "ValueError", "svcca: cca_dim must be at least 1, got 0")]
    [InlineData("mutual_knn-rbf", "TypeError", "mutual_knn() got an unexpected keyword argument 'kernel_metric'")]
    [InlineData("svcca-unbiased", "TypeError", "svcca() got an unexpected keyword argument 'unbiased'")]
    public void A_bad_key_is_refused_naming_what_is_wrong(string key, string kind, string message)
    {
        var refusal = Assert.Throws<AlignmentException>(() => MetricSpec.Parse(key));
        Assert.Equal(kind, refusal.Kind.ToString());
        Assert.StartsWith(message, refusal.Message);
    }

    public static TheoryData<string> Metrics() => [.. MetricNames.All];

    /// <summary>
    /// Symmetric: metric(A, B) = metric(B, A), checked on random features where the metric could tell the
    /// two orders apart; Mirrored: the reference's compute_alignment(xs, xs) mirrors all but cycle_knn.
    /// </summary>
    [Theory]
    [MemberData(nameof(Metrics))]
    public void A_metric_is_symmetric_exactly_when_swapping_its_inputs_keeps_its_value(string metric)
    {
        var spec = MetricSpec.ForComputeScore(metric, 5);
        var a = Random(seed: 1);
        var b = Random(seed: 2);
        double forward = AlignmentScoring.ScoreOne(a, b, spec), backward = AlignmentScoring.ScoreOne(b, a, spec);
        Assert.Equal(spec.Symmetric, Math.Abs(forward - backward) <= 1e-12 * Math.Max(1, Math.Abs(forward)));
        Assert.Equal(metric is not ("cknna" or "cycle_knn"), spec.Symmetric);
        Assert.Equal(metric != "cycle_knn", spec.Mirrored);
    }

    /// <summary>48 samples of 12 uniform random features: unrelated neighbourhoods, so an asymmetric metric shows it.</summary>
    private static ModelSketch Random(int seed)
    {
        const int n = 48, d = 12;
        var random = new Random(seed);
        var values = new double[n * d];
        for (int i = 0; i < values.Length; i++) values[i] = random.NextDouble() * 2 - 1;
        return new ModelSketch(new ModelFeatures($"random-{seed}", [new LayerFeatures(n, d, values)]));
    }
}
