using Prh.Grains.Telemetry;
using Prh.Silo;

namespace Prh.Cluster.Tests.Telemetry;

public sealed class PrometheusMetricsTests
{
    [Fact]
    public void Counters_and_histograms_are_rendered_as_prometheus_series_with_their_labels()
    {
        using var metrics = new PrometheusMetrics();
        // A label no other test uses: the meter is process-wide.
        var label = new KeyValuePair<string, object?>("prh.metric", "prom-test");
        PrhTelemetry.PairsScored.Add(2, label);
        PrhTelemetry.PairsScored.Add(3, label);
        PrhTelemetry.TileSeconds.Record(1.5, label);
        PrhTelemetry.TileSeconds.Record(0.5, label);

        var lines = metrics.Text().Split('\n');
        Assert.Contains("prh_pairs_scored_total{prh_metric=\"prom-test\"} 5", lines);
        Assert.Contains("prh_tile_duration_count{prh_metric=\"prom-test\"} 2", lines);
        Assert.Contains("prh_tile_duration_sum{prh_metric=\"prom-test\"} 2", lines);
    }
}
