using Prh.Alignment.Metrics;
using Prh.Cluster.Tests.Sweeps;
using Prh.Contracts;
using Prh.Contracts.Grains;
using Prh.Contracts.Sweeps;
using Prh.Grains.Datasets;

namespace Prh.Cluster.Tests.Datasets;

/// <summary>A dataset's rows are the same samples in the same order for every model, or the model is refused with the first difference.</summary>
public sealed class SampleIdentityTests
{
    private static readonly string[] Ids = [.. Enumerable.Range(0, 128).Select(i => $"s{i:D3}")];

    [Fact]
    public void A_samples_file_lists_each_id_once()
    {
        Assert.Equal(["a", "b"], SampleIds.Parse("ids.txt", "a\r\nb\n\n"));
        Assert.Contains("ids.txt: sample id 'a' appears twice (lines 1 and 3)", Assert.Throws<RefusalException>(() => SampleIds.Parse("ids.txt", "a\nb\na\n")).Message);
        Assert.Contains("ids.txt: line 2 is empty", Assert.Throws<RefusalException>(() => SampleIds.Parse("ids.txt", "a\n\nb\n")).Message);
    }

    [Fact]
    public void The_first_difference_is_named()
    {
        Assert.Null(SampleIds.Difference(["a", "b", "c"], ["a", "b", "c"]));
        Assert.Equal("row 1 is sample 'c' where the dataset has 'b' (the same samples in another order)", SampleIds.Difference(["a", "b", "c"], ["a", "c", "b"]));
        Assert.Equal("sample 'z' (row 2) is not one of the dataset's", SampleIds.Difference(["a", "b", "c"], ["a", "b", "z"]));
        Assert.Equal("the dataset's sample 'c' (row 2) is missing", SampleIds.Difference(["a", "b", "c"], ["a", "b"]));
    }

    [Fact]
    public async Task Models_whose_rows_are_other_samples_or_in_another_order_are_left_out_with_the_first_difference()
    {
        string folder = Directory.CreateTempSubdirectory("prh-samples-").FullName;
        string Ids(string name, IEnumerable<string> ids)
        {
            string path = Path.Combine(folder, name);
            File.WriteAllLines(path, ids);
            return path;
        }
        string same = Ids("same.txt", SampleIdentityTests.Ids);
        string swapped = Ids("swapped.txt", SampleIdentityTests.Ids.Select((id, i) => i == 3 ? SampleIdentityTests.Ids[4] : i == 4 ? SampleIdentityTests.Ids[3] : id));
        string stranger = Ids("stranger.txt", SampleIdentityTests.Ids.Select((id, i) => i == 5 ? "zebra" : id));
        var models = SweepTests.VisionModels();
        var definition = new SweepDefinition("identity", "identity", [
            new ModelDefinition(models[0], SweepTests.FileOf(models[0]), Samples: same),
            new ModelDefinition(models[1], SweepTests.FileOf(models[1]), Samples: same),
            new ModelDefinition("swapped", SweepTests.FileOf(models[2]), Samples: swapped),
            new ModelDefinition("stranger", SweepTests.FileOf(models[3]), Samples: stranger),
        ], [MetricSpec.Parse("cka")]);
        var cluster = await TestClusters.Start(TestClusters.FileStore(), silos: 1);
        try
        {
            var sweep = cluster.Client.GetGrain<ISweepGrain>("identity");
            await sweep.SubmitAsync(definition);
            var status = await SweepTests.Finish(sweep);
            Assert.Equal(SweepPhase.Completed, status.Phase);
            var errors = status.ModelErrors.ToDictionary(e => e.Model, e => e.Message);
            Assert.True(errors.Keys.Order().SequenceEqual(["stranger", "swapped"]), string.Join("\n", errors.Select(e => $"{e.Key}: {e.Value}")));
            Assert.Contains("row 3 is sample 's004' where the dataset has 's003' (the same samples in another order)", errors["swapped"]);
            Assert.Contains("sample 'zebra' (row 5) is not one of the dataset's", errors["stranger"]);
            Assert.Contains($"its samples were set by model '{models[0]}'", errors["swapped"]);
            Assert.Equal([models[0], models[1]], (await sweep.GetResultsAsync())[0].Models);
        }
        finally
        {
            await cluster.DisposeAsync();
            Directory.Delete(folder, recursive: true);
        }
    }
}
