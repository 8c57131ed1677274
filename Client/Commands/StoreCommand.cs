using System.CommandLine;
using Prh.Grains.Storage;

namespace Prh.Client.Commands;

/// <summary>
/// <c>prh store put FILE...</c>: copies files into the store a cluster uses and prints,
/// for each, the <c>blob:sha256:HEX:LENGTH</c> name a sweep spec can give instead of a path (for
/// features or an ONNX model), so silos on other machines can read it.
/// </summary>
internal static class StoreCommand
{
    public static Command Build()
    {
        var files = new Argument<string[]>("FILE") { Description = "Files to store", Arity = ArgumentArity.OneOrMore };
        var data = new Option<string>("--data") { Description = "The file store's folder", DefaultValueFactory = _ => "./prh-data" };
        var connection = new Option<string?>("--blob-connection-string") { Description = "Store in Azure Blob Storage instead (connection string)" };
        var container = new Option<string>("--container") { Description = "Blob container", DefaultValueFactory = _ => "prh" };
        var put = new Command("put", "Store files by content and print the names specs can use for them.") { files, data, connection, container };
        put.SetAction((parse, _) => CommandErrors.RunAsync(async () =>
        {
            string? blobConnection = parse.GetValue(connection);
            var store = BlobStoreFactory.Create(blobConnection is null
                ? new BlobStoreOptions { Kind = "file", DataDirectory = Path.GetFullPath(parse.GetValue(data)!) }
                : new BlobStoreOptions { Kind = "blob", BlobConnectionString = blobConnection, Container = parse.GetValue(container)! });
            foreach (string file in parse.GetValue(files)!)
            {
                var blob = await store.PutAsync(await File.ReadAllBytesAsync(file));
                Console.Out.WriteLine($"{blob.ToUri()}  {file}");
            }
            return 0;
        }));
        var store = new Command("store", "The store: put files that sweep specs then name by content.");
        store.Subcommands.Add(put);
        return store;
    }
}
