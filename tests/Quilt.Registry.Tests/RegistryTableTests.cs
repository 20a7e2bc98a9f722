using System.Text;
using Parquet.Serialization;
using Quilt.Core.Hashing;
using Quilt.Mcp.Configuration;
using Quilt.Operations;
using Quilt.Packages;
using Quilt.Storage;
using Quilt.Tables;
using Quilt.Testing;

namespace Quilt.Registry.Tests;

/// <summary>
/// Registry mode (only a Quilt JWT, no AWS credentials): the table operations read objects and package entries through
/// the registry server's browsing sessions into the cache, so SQL, rows and a Parquet footer work as they do on S3.
/// </summary>
public sealed class RegistryTableTests(RegistryFixture fx)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private sealed class Sale
    {
        public int Id { get; set; }
        public string? City { get; set; }
        public double Amount { get; set; }
    }

    [Fact]
    public async Task A_query_joins_an_object_and_a_package_entry_read_through_the_gateway()
    {
        var folder = $"tables-{Guid.NewGuid():N}";
        var people = Encoding.UTF8.GetBytes("city,country\nZürich,CH\nKöln,DE\n");
        await fx.PutRawAsync($"{folder}/cities.csv", people, "text/csv");
        using var parquet = new MemoryStream();
        await ParquetSerializer.SerializeAsync(
            [new Sale { Id = 1, City = "Zürich", Amount = 2.5 }, new Sale { Id = 2, City = "Köln", Amount = 4 }, new Sale { Id = 3, City = null, Amount = 1 }],
            parquet, cancellationToken: Ct);
        var sales = parquet.ToArray();
        await fx.PutRawAsync($"{folder}/sales.parquet", sales, "application/vnd.apache.parquet");
        var name = $"team/t{Guid.NewGuid():N}"[..16];
        using (var s3 = fx.S3.CreateStore())
        {
            await CraftedPackages.PublishAsync(s3, fx.Data, name,
                [CraftedPackages.EntryLine("data/sales.parquet", $"s3://{fx.Data}/{folder}/sales.parquet", sales.Length, ObjectHash.Sha256ChunkedType,
                    ObjectHashing.Compute(sales).Value)], Ct);
        }

        var store = fx.Store("reader");
        var settings = new ServerSettings { Storage = new StorageSettings(), RegistryUrl = fx.Gateway, AllowedBuckets = [fx.Data] };
        var operations = new QuiltOperations(new StoreConnection(store), settings, new PackageService(new ObjectLocator([store], allowLocalFilesOutsideStores: false)));
        using var cache = new TempDirectory("quilt-registry-tables");
        var tables = TableOperations.Create(operations, new TableSettings { CacheFolder = cache.Path });

        var result = await tables.QueryAsync(
            [new TableInput("s", $"quilt+s3://{fx.Data}#package={name}&path=data/*.parquet"), new TableInput("c", $"s3://{fx.Data}/{folder}/cities.csv")],
            "SELECT c.country, sum(s.Amount) AS total FROM s JOIN c ON s.City = c.city GROUP BY 1 ORDER BY 1", 10, null, null, Ct);
        Assert.Equal([["CH", "2.5"], ["DE", "4.0"]], result.Rows);

        var footer = await tables.DescribeAsync(new TableInput(null, Package: $"quilt+s3://{fx.Data}#package={name}", Path: "data/sales.parquet"), scan: false, null, Ct);
        Assert.Equal(("parquet-footer", 3L), (footer.Method, footer.Rows));
        Assert.Equal(1L, footer.Columns.Single(c => c.Name == "City").Nulls);
    }
}
