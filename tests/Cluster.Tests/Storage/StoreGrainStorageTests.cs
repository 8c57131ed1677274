using Microsoft.Extensions.DependencyInjection;
using Orleans.Providers;
using Orleans.Serialization;
using Orleans.Serialization.Serializers;
using Orleans.Storage;
using Prh.Grains.Storage;

namespace Prh.Cluster.Tests.Storage;

[GenerateSerializer, Alias("prh.tests.CounterState")]
public sealed class CounterState
{
    [Id(0)] public int Value { get; set; }
    [Id(1)] public string Note { get; set; } = "";
}

public sealed class StoreGrainStorageTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("prh-grain-storage-").FullName;
    private readonly ServiceProvider _services = new ServiceCollection().AddSerializer().BuildServiceProvider();
    private readonly GrainId _grain = GrainId.Create("counter", "key-1");

    private StoreGrainStorage Storage() => new(
        new FileBlobStore(_root), _services.GetRequiredService<Serializer>(), _services.GetRequiredService<IActivatorProvider>());

    [Fact]
    public async Task Absent_state_reads_as_a_fresh_default_without_record()
    {
        var state = new GrainState<CounterState>(new CounterState { Value = 99 }, "stale-etag");

        await Storage().ReadStateAsync("counter", _grain, state);

        Assert.False(state.RecordExists);
        Assert.Null(state.ETag);
        Assert.NotNull(state.State);
        Assert.Equal(0, state.State.Value);
    }

    [Fact]
    public async Task Write_then_read_round_trips_with_the_ETag()
    {
        var storage = Storage();
        var written = new GrainState<CounterState>(new CounterState { Value = 5, Note = "five" });

        await storage.WriteStateAsync("counter", _grain, written);
        var read = new GrainState<CounterState>();
        await storage.ReadStateAsync("counter", _grain, read);

        Assert.True(written.RecordExists);
        Assert.NotNull(written.ETag);
        Assert.True(read.RecordExists);
        Assert.Equal(written.ETag, read.ETag);
        Assert.Equal(5, read.State!.Value);
        Assert.Equal("five", read.State.Note);
    }

    [Fact]
    public async Task Write_with_a_stale_ETag_is_InconsistentState()
    {
        var storage = Storage();
        var first = new GrainState<CounterState>(new CounterState { Value = 1 });
        await storage.WriteStateAsync("counter", _grain, first);
        var stale = new GrainState<CounterState>(new CounterState { Value = 2 }, first.ETag);
        await storage.WriteStateAsync("counter", _grain, first);

        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.WriteStateAsync("counter", _grain, stale));
        // A second activation that never saw the record cannot create it over the first one's either.
        await Assert.ThrowsAsync<InconsistentStateException>(
            () => storage.WriteStateAsync("counter", _grain, new GrainState<CounterState>(new CounterState { Value = 3 })));

        var read = new GrainState<CounterState>();
        await storage.ReadStateAsync("counter", _grain, read);
        Assert.Equal(1, read.State!.Value);
        Assert.Equal(first.ETag, read.ETag);
    }

    [Fact]
    public async Task Clear_deletes_and_resets()
    {
        var storage = Storage();
        var state = new GrainState<CounterState>(new CounterState { Value = 7 });
        await storage.WriteStateAsync("counter", _grain, state);

        await storage.ClearStateAsync("counter", _grain, state);

        Assert.False(state.RecordExists);
        Assert.Null(state.ETag);
        Assert.Equal(0, state.State!.Value);
        var read = new GrainState<CounterState>();
        await storage.ReadStateAsync("counter", _grain, read);
        Assert.False(read.RecordExists);
    }

    [Fact]
    public async Task Clear_with_a_stale_ETag_is_InconsistentState()
    {
        var storage = Storage();
        var state = new GrainState<CounterState>(new CounterState { Value = 1 });
        await storage.WriteStateAsync("counter", _grain, state);
        var stale = new GrainState<CounterState>(state.State, state.ETag);
        await storage.WriteStateAsync("counter", _grain, state);

        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.ClearStateAsync("counter", _grain, stale));

        var read = new GrainState<CounterState>();
        await storage.ReadStateAsync("counter", _grain, read);
        Assert.True(read.RecordExists);
    }

    [Fact]
    public async Task States_of_different_names_and_grains_are_separate()
    {
        var storage = Storage();
        var other = GrainId.Create("counter", "key-2");
        await storage.WriteStateAsync("counter", _grain, new GrainState<CounterState>(new CounterState { Value = 1 }));
        await storage.WriteStateAsync("other", _grain, new GrainState<CounterState>(new CounterState { Value = 2 }));
        await storage.WriteStateAsync("counter", other, new GrainState<CounterState>(new CounterState { Value = 3 }));

        async Task<int> Read(string name, GrainId id)
        {
            var state = new GrainState<CounterState>();
            await storage.ReadStateAsync(name, id, state);
            return state.State!.Value;
        }

        Assert.Equal(1, await Read("counter", _grain));
        Assert.Equal(2, await Read("other", _grain));
        Assert.Equal(3, await Read("counter", other));
    }

    [Theory]
    [InlineData("plain")]
    [InlineData("../../etc/passwd")]
    [InlineData("a/b//c d\\e")]
    [InlineData("ünïcødé ✓")]
    [InlineData("_5f_already-escaped.")]
    public void Document_names_are_valid_and_reversible(string key)
    {
        var grain = GrainId.Create("my.type", key);

        var name = StoreGrainStorage.DocumentName("state.name", grain);

        StoreNames.ValidateDocumentName(name);
        var parts = name.Split('/');
        Assert.Equal(3, parts.Length);
        Assert.Equal("grains", parts[0]);
        Assert.Equal("state.name", StoreGrainStorage.Unescape(parts[1]));
        Assert.Equal(grain.ToString(), StoreGrainStorage.Unescape(parts[2]));
    }

    [Fact]
    public void Long_grain_ids_get_a_readable_prefix_and_a_hash()
    {
        var a = StoreGrainStorage.DocumentName("counter", GrainId.Create("counter", new string('x', 300) + "a"));
        var b = StoreGrainStorage.DocumentName("counter", GrainId.Create("counter", new string('x', 300) + "b"));

        StoreNames.ValidateDocumentName(a);
        StoreNames.ValidateDocumentName(b);
        Assert.NotEqual(a, b);
        Assert.StartsWith("grains/counter/counter_2fxxx", a);
    }

    [Fact]
    public void AddPrhStorage_registers_the_store_and_one_provider_as_prh_and_default()
    {
        using var services = new ServiceCollection()
            .AddSerializer()
            .AddPrhStorage(new BlobStoreOptions { DataDirectory = _root })
            .BuildServiceProvider();

        var prh = services.GetRequiredKeyedService<IGrainStorage>("prh");

        Assert.IsType<StoreGrainStorage>(prh);
        Assert.Same(prh, services.GetRequiredKeyedService<IGrainStorage>(ProviderConstants.DEFAULT_STORAGE_PROVIDER_NAME));
        Assert.Same(prh, services.GetRequiredService<IGrainStorage>());
        // The configured store, behind the tracing decorator every silo uses.
        var store = Assert.IsType<Prh.Grains.Telemetry.TracedBlobStore>(services.GetRequiredService<IBlobStore>());
        Assert.Equal(new FileBlobStore(_root).Description, store.Description);
    }

    public void Dispose()
    {
        _services.Dispose();
        Directory.Delete(_root, recursive: true);
    }
}
