using Prh.Extraction.Datasets;

namespace Prh.Extraction.Tests.Datasets;

/// <summary>The helper that turns the unpacked Tux Paint stamps into a samples file.</summary>
public sealed class TuxpaintStampsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("prh-dataset-tuxpaint-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Every_captioned_stamp_but_the_alphabets_in_path_order()
    {
        var pairs = Stamps.Pairs;
        Assert.Equal(627, pairs.Count);
        var categories = pairs.Select(p => p.Id.Split('.')[0]).Distinct().ToList();
        Assert.Equal(["animals", "clothes", "food", "hobbies", "household", "medical", "military", "naturalforces", "people", "plants", "seasonal", "space",
            "sports", "symbols", "town", "vehicles"], categories);
        Assert.DoesNotContain(pairs, p => p.Id.StartsWith("symbols.alphabets.", StringComparison.Ordinal));
        Assert.Equal(pairs.Select(p => p.ImagePath).Order(StringComparer.Ordinal), pairs.Select(p => p.ImagePath));
        Assert.All(pairs, p => Assert.True(SafeName.IsSafe(p.Id), p.Id));
        Assert.Equal(pairs.Count, pairs.Select(p => p.Id).Distinct().Count());

        var rosella = pairs.Single(p => p.Id == "animals.birds.adelaide-rosella");
        Assert.Equal("An Adelaide Rosella.", rosella.Caption);
        Assert.Equal(Path.Combine(Stamps.Root, "animals", "birds", "adelaide-rosella.png"), rosella.ImagePath);
        Assert.All(pairs, p => Assert.DoesNotContain(".utf8=", p.Caption));
    }

    [Fact]
    public void Samples_file_holds_all_pairs_or_an_even_spread_and_builds()
    {
        string all = Path.Combine(_dir, "all", "samples.tsv");
        Assert.Equal(627, TuxpaintStamps.WriteSamples(Stamps.Root, all));
        var samples = SampleFile.Read(all);
        Assert.Equal(Stamps.Pairs.Select(p => (p.Id, p.ImagePath, p.Caption)), samples.Select(s => (s.Id, s.ImagePath!, s.Caption!)));
        Assert.All(File.ReadLines(all).Skip(1), line => Assert.False(Path.IsPathRooted(line.Split('\t')[1]), line));

        string some = Path.Combine(_dir, "some.tsv");
        Assert.Equal(16, TuxpaintStamps.WriteSamples(Stamps.Root, some, 16));
        var spread = SampleFile.Read(some);
        Assert.Equal(Enumerable.Range(0, 16).Select(k => Stamps.Pairs[k * 627 / 16].Id), spread.Select(s => s.Id));
        Assert.True(spread.Select(s => s.Id.Split('.')[0]).Distinct().Count() >= 8);

        var dataset = DatasetBuilder.Build(some, new DatasetOptions { ImageSize = 24, VocabularyPath = Stamps.WriteMiniLmVocabulary(_dir) });
        Assert.Equal([16, 3, 24, 24], dataset.Pixels!.Shape);
        Assert.Equal([16, 64], dataset.InputIds!.Shape);
    }
}
