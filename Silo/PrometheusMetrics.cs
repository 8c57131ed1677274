using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text;
using Prh.Grains.Telemetry;

namespace Prh.Silo;

/// <summary>
/// This silo's own "Prh" instruments since it started, in the Prometheus text format, for the health
/// endpoint's <c>/metrics</c>: counters as <c>prh_pairs_scored_total{prh_metric="cka"} 12</c>,
/// histograms as their <c>_count</c> and <c>_sum</c>. Beside OTLP export, it lets a scraper, an operator
/// with curl, or a test see what each process did (pairs scored, sketch pieces and shards computed).
/// </summary>
public sealed class PrometheusMetrics : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<(string Name, string Labels), double> _values = new();

    public PrometheusMetrics()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == PrhTelemetry.Name) listener.EnableMeasurementEvents(instrument);
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => Record(instrument, value, tags));
        _listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) => Record(instrument, value, tags));
        _listener.Start();
    }

    private void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        string name = instrument.Name.Replace('.', '_');
        string labels = Labels(tags);
        if (instrument is Histogram<double> or Histogram<long>)
        {
            _values.AddOrUpdate((name + "_count", labels), 1, (_, v) => v + 1);
            _values.AddOrUpdate((name + "_sum", labels), value, (_, v) => v + value);
        }
        else
        {
            string key = instrument is UpDownCounter<long> or UpDownCounter<double> ? name : name + "_total";
            _values.AddOrUpdate((key, labels), value, (_, v) => v + value);
        }
    }

    private static string Labels(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        if (tags.Length == 0) return "";
        var parts = new List<string>(tags.Length);
        foreach (var (key, value) in tags)
            parts.Add($"{key.Replace('.', '_')}=\"{Convert.ToString(value, CultureInfo.InvariantCulture)?.Replace("\\", "\\\\").Replace("\"", "\\\"")}\"");
        parts.Sort(StringComparer.Ordinal);
        return "{" + string.Join(",", parts) + "}";
    }

    /// <summary>Every series, sorted, one <c>name{labels} value</c> line each.</summary>
    public string Text()
    {
        var text = new StringBuilder();
        foreach (var ((name, labels), value) in _values.OrderBy(p => p.Key.Name, StringComparer.Ordinal).ThenBy(p => p.Key.Labels, StringComparer.Ordinal))
            text.Append(name).Append(labels).Append(' ').Append(value.ToString("R", CultureInfo.InvariantCulture)).Append('\n');
        return text.ToString();
    }

    public void Dispose() => _listener.Dispose();
}
