using Microsoft.Extensions.Hosting;
using Prh.Silo;

await SiloHost.Create(args).RunAsync();
