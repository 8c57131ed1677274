using System.Text.Json;
using Prh.Alignment.Sketches;

namespace Prh.Alignment.Metrics;

/// <summary>
/// A metric with its keyword arguments, validated as the reference validates them
/// (<c>AlignmentMetrics.measure(metric, A, B, **kwargs)</c>): the same names, defaults and errors.
/// <c>TopK</c> is null when the metric takes none, or for cknna when it was passed as None
/// (which the reference rejects when scoring).
/// </summary>
public sealed record MetricSpec
{
    public required MetricKind Kind { get; init; }
    public int? TopK { get; init; }
    public KernelFunction Kernel { get; init; } = KernelFunction.InnerProduct;
    public bool Unbiased { get; init; }
    public int CcaDim { get; init; } = 10;

    /// <summary>True when a knn metric was given topk=None: Python slicing then keeps all N columns.</summary>
    public bool AllColumns { get; init; }

    public string Name => Kind.Name();

    /// <summary>
    /// compute_alignment(xs, xs) scores only pairs (xs[j], xs[i]) with i &lt;= j and mirrors the rest, for every
    /// metric but cycle_knn (the reference's rule; cknna is mirrored although it is not symmetric).
    /// </summary>
    public bool Mirrored => Kind != MetricKind.CycleKnn;

    /// <summary>metric(A, B) = metric(B, A) for every layer pair: a pair scored one way serves the other, transposed.</summary>
    public bool Symmetric => Kind is not (MetricKind.Cknna or MetricKind.CycleKnn);

    /// <summary>
    /// The configuration's one name, as sweeps, results and the console know it: the metric name, then
    /// <c>@topk</c> for the knn metrics (<c>@all</c> for topk=None), <c>-rbf-s{sigma}</c> for an RBF kernel,
    /// <c>-unbiased</c> for cka given unbiased=True, <c>-biased</c> for cknna given unbiased=False and
    /// <c>-d{cca_dim}</c> for svcca other than the default 10. <see cref="Parse"/> reads it back.
    /// </summary>
    public string Key =>
        Name
        + (Kind.UsesTopK() ? AllColumns ? "@all" : $"@{TopK}" : "")
        + (Kernel.IsRbf ? string.Create(System.Globalization.CultureInfo.InvariantCulture, $"-rbf-s{Kernel.Sigma:R}") : "")
        + (Kind == MetricKind.Cka && Unbiased ? "-unbiased" : "")
        + (Kind == MetricKind.Cknna && !Unbiased ? "-biased" : "")
        + (Kind == MetricKind.Svcca && CcaDim != 10 ? $"-d{CcaDim}" : "");

    /// <summary>
    /// A metric from its <see cref="Key"/> or a shorter form of it: <c>mutual_knn</c> (topk 10, as
    /// compute_score), <c>mutual_knn@5</c>, <c>cka-rbf-s0.5</c>, <c>svcca-d20</c>. Errors name the key.
    /// </summary>
    public static MetricSpec Parse(string key)
    {
        // Options follow the name, each after a '-'; a '-' before a digit is a number's own (a negative
        // sigma or topk, an exponent such as 1E-05), so it stays inside that option.
        var parts = new List<string>();
        int start = 0;
        for (int i = 0; i <= key.Length; i++)
            if (i == key.Length || (key[i] == '-' && !(i + 1 < key.Length && char.IsAsciiDigit(key[i + 1]))))
            {
                parts.Add(key[start..i]);
                start = i + 1;
            }
        string[] head = parts[0].Split('@');
        var kind = MetricNames.Parse(head[0]);
        var kwargs = new Dictionary<string, object?>();
        if (kind.UsesTopK())
            kwargs["topk"] = head.Length == 1 ? 10L : head[1] == "all" ? null : long.TryParse(head[1], System.Globalization.CultureInfo.InvariantCulture, out long k) ? k
                : throw new AlignmentException(ErrorKind.ValueError, $"metric '{key}': topk '{head[1]}' is not an integer");
        else if (head.Length > 1)
            throw new AlignmentException(ErrorKind.ValueError, $"metric '{key}': {head[0]} takes no topk");
        foreach (string part in parts.Skip(1))
        {
            if (part == "rbf") kwargs["kernel_metric"] = "rbf";
            else if (part == "unbiased") kwargs["unbiased"] = true;
            else if (part == "biased") kwargs["unbiased"] = false;
            else if (part.StartsWith('s') && double.TryParse(part[1..], System.Globalization.CultureInfo.InvariantCulture, out double sigma)) kwargs["rbf_sigma"] = sigma;
            else if (part.StartsWith('d') && long.TryParse(part[1..], System.Globalization.CultureInfo.InvariantCulture, out long dim)) kwargs["cca_dim"] = dim;
            else throw new AlignmentException(ErrorKind.ValueError, $"metric '{key}': '{part}' is not rbf, unbiased, biased, s<sigma> or d<cca_dim>");
        }
        return Create(kind.Name(), kwargs);
    }

    public override string ToString() => Kind switch
    {
        MetricKind.Cka or MetricKind.UnbiasedCka => $"{(Unbiased ? "unbiased_cka" : "cka")}[{Kernel}]",
        MetricKind.Svcca => $"svcca[cca_dim={CcaDim}]",
        MetricKind.Cknna => $"cknna[topk={TopK}{(Unbiased ? "" : ", unbiased=False")}]",
        _ => $"{Name}[topk={(AllColumns ? "None" : TopK)}]",
    };

    /// <summary>
    /// Validates <paramref name="kwargs"/> (values: long, double, bool, string or null) for
    /// <paramref name="metric"/>. Unknown keywords are a TypeError as in Python, except <c>topk</c>,
    /// which metrics without neighbours ignore (the CLI's --topk contract).
    /// </summary>
    public static MetricSpec Create(string metric, IReadOnlyDictionary<string, object?> kwargs)
    {
        var kind = MetricNames.Parse(metric);
        string fn = kind.Name();
        string[] allowed = kind switch
        {
            MetricKind.MutualKnn or MetricKind.CycleKnn or MetricKind.LcsKnn or MetricKind.EditDistanceKnn => ["topk"],
            MetricKind.Cka or MetricKind.UnbiasedCka => ["kernel_metric", "rbf_sigma", "unbiased"],
            MetricKind.Cknna => ["topk", "distance_agnostic", "unbiased"],
            _ => ["cca_dim"],
        };
        foreach (string key in kwargs.Keys)
            if (!allowed.Contains(key) && key != "topk")
                throw new AlignmentException(ErrorKind.TypeError, $"{fn}() got an unexpected keyword argument '{key}'");

        switch (kind)
        {
            case MetricKind.MutualKnn or MetricKind.CycleKnn or MetricKind.LcsKnn or MetricKind.EditDistanceKnn:
            {
                if (!kwargs.TryGetValue("topk", out object? raw))
                    throw new AlignmentException(ErrorKind.TypeError, $"{fn}() missing 1 required positional argument: 'topk'");
                if (raw is null) return new MetricSpec { Kind = kind, AllColumns = true };
                int topk = Integer(fn, "topk", raw);
                if (topk < 1)
                    throw new AlignmentException(ErrorKind.ValueError, $"{fn}: topk must be at least 1, got {topk}");
                return new MetricSpec { Kind = kind, TopK = topk };
            }
            case MetricKind.Cka or MetricKind.UnbiasedCka:
            {
                string kernelName = kwargs.TryGetValue("kernel_metric", out object? km) ? Text(fn, "kernel_metric", km) : "ip";
                double sigma = kwargs.TryGetValue("rbf_sigma", out object? rs) ? Number(fn, "rbf_sigma", rs) : 1.0;
                bool unbiased = kind == MetricKind.UnbiasedCka
                    || (kwargs.TryGetValue("unbiased", out object? ub) && Flag(fn, "unbiased", ub));
                var kernel = kernelName switch
                {
                    "ip" => KernelFunction.InnerProduct,
                    "rbf" => KernelFunction.Rbf(sigma),
                    _ => throw new AlignmentException(ErrorKind.ValueError, $"Invalid kernel metric {kernelName}"),
                };
                return new MetricSpec { Kind = kind, Kernel = kernel, Unbiased = unbiased };
            }
            case MetricKind.Cknna:
            {
                kwargs.TryGetValue("topk", out object? raw);
                int? topk = raw is null ? null : Integer(fn, "topk", raw);
                if (topk < 2)
                    throw new AlignmentException(ErrorKind.ValueError, "CKNNA requires topk >= 2");
                if (topk is null)
                    throw new AlignmentException(ErrorKind.TypeError, "'<' not supported between instances of 'NoneType' and 'int'");
                if (kwargs.TryGetValue("distance_agnostic", out object? da) && Flag(fn, "distance_agnostic", da))
                    throw new AlignmentException(ErrorKind.ValueError, "cknna: distance_agnostic=True is not supported");
                bool unbiased = !kwargs.TryGetValue("unbiased", out object? ub) || Flag(fn, "unbiased", ub);
                return new MetricSpec { Kind = kind, TopK = topk, Unbiased = unbiased };
            }
            default:
            {
                int dim = kwargs.TryGetValue("cca_dim", out object? cd) ? Integer(fn, "cca_dim", cd) : 10;
                if (dim < 1)
                    throw new AlignmentException(ErrorKind.ValueError, $"svcca: cca_dim must be at least 1, got {dim}");
                return new MetricSpec { Kind = kind, CcaDim = dim };
            }
        }
    }

    /// <summary><see cref="Create(string, IReadOnlyDictionary{string, object?})"/> with keyword arguments given as a JSON object.</summary>
    public static MetricSpec Create(string metric, JsonElement kwargs)
    {
        var values = new Dictionary<string, object?>();
        if (kwargs.ValueKind is not (JsonValueKind.Undefined or JsonValueKind.Null))
        {
            if (kwargs.ValueKind != JsonValueKind.Object)
                throw new AlignmentException(ErrorKind.TypeError, $"keyword arguments must be a JSON object, not {Kind(kwargs)}");
            foreach (var p in kwargs.EnumerateObject()) values[p.Name] = Value(p.Name, p.Value);
        }
        return Create(metric, values);

        static object? Value(string name, JsonElement v) => v.ValueKind switch
        {
            JsonValueKind.Null => null,
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            JsonValueKind.String => v.GetString(),
            JsonValueKind.Number when v.TryGetInt64(out long l) => l,
            JsonValueKind.Number => v.GetDouble(),
            _ => throw new AlignmentException(ErrorKind.TypeError, $"{name} must be a number, string, boolean or null, not {Kind(v)}"),
        };

        static string Kind(JsonElement v) => v.ValueKind.ToString().ToLowerInvariant();
    }

    /// <summary>
    /// The keyword arguments compute_score passes (topk to the 'knn' metrics only), plus the kernel
    /// options for cka / unbiased_cka and cca_dim for svcca when given; options a metric does not take
    /// are ignored.
    /// </summary>
    public static MetricSpec ForComputeScore(string metric, int? topk, string? kernel = null, double? sigma = null, int? ccaDim = null)
    {
        var kind = MetricNames.Parse(metric);
        var kwargs = new Dictionary<string, object?>();
        if (kind.UsesTopK()) kwargs["topk"] = (long?)topk;
        if (kind is MetricKind.Cka or MetricKind.UnbiasedCka)
        {
            if (kernel is not null) kwargs["kernel_metric"] = kernel;
            if (sigma is not null) kwargs["rbf_sigma"] = sigma;
        }
        if (kind == MetricKind.Svcca && ccaDim is not null) kwargs["cca_dim"] = (long)ccaDim;
        return Create(metric, kwargs);
    }

    /// <summary>Checks what depends on the data: sample counts, and topk or cca_dim against them.</summary>
    internal void Validate(ModelSketch a, ModelSketch b)
    {
        if (a.SampleCount != b.SampleCount)
            throw new AlignmentException(ErrorKind.ValueError,
                $"{Name}: the two inputs have different numbers of samples: {a.Source} has {a.SampleCount}, {b.Source} has {b.SampleCount}");
        Validate(a);
        Validate(b);
    }

    internal void Validate(ModelSketch model) => Validate(model.SampleCount, model.LayerWidths, model.Source);

    /// <summary>Checks topk or cca_dim against one model's N and layer widths; an <see cref="AlignmentException"/> names what does not fit.</summary>
    public void Validate(int sampleCount, IReadOnlyList<int> layerWidths, string source)
    {
        if (Kind == MetricKind.Cknna && TopK > sampleCount)
            throw new AlignmentException(ErrorKind.RuntimeError, "selected index k out of range");
        if (Kind == MetricKind.Svcca)
            foreach (int width in layerWidths)
                if (CcaDim > Math.Min(sampleCount, width))
                    throw new AlignmentException(ErrorKind.ValueError,
                        $"svcca: cca_dim={CcaDim} exceeds min(N, D) = {Math.Min(sampleCount, width)} for {source}");
    }

    /// <summary>Neighbour columns a knn metric reads: min(topk, N), or N for topk=None.</summary>
    internal int Columns(int sampleCount) => AllColumns ? sampleCount : NeighbourLists.ColumnsFor(sampleCount, TopK!.Value);

    private static int Integer(string fn, string key, object? value) => value switch
    {
        long l when l is >= int.MinValue and <= int.MaxValue => (int)l,
        int i => i,
        _ => throw new AlignmentException(ErrorKind.TypeError, $"{fn}(): {key} must be an integer, got {Describe(value)}"),
    };

    private static double Number(string fn, string key, object? value) => value switch
    {
        long l => l,
        int i => i,
        double d => d,
        _ => throw new AlignmentException(ErrorKind.TypeError, $"{fn}(): {key} must be a number, got {Describe(value)}"),
    };

    private static bool Flag(string fn, string key, object? value) => value as bool?
        ?? throw new AlignmentException(ErrorKind.TypeError, $"{fn}(): {key} must be true or false, got {Describe(value)}");

    private static string Text(string fn, string key, object? value) => value as string
        ?? throw new AlignmentException(ErrorKind.TypeError, $"{fn}(): {key} must be a string, got {Describe(value)}");

    private static string Describe(object? value) => value switch
    {
        null => "None",
        string s => $"'{s}'",
        bool b => b ? "True" : "False",
        _ => Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture) ?? "?",
    };
}
