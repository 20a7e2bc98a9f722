using System.Text.Json.Nodes;
using Quilt.Registry;
using Quilt.Storage;
using Quilt.Storage.Local;

namespace Quilt.Mcp.Tests;

/// <summary>
/// A storage error's structured details (what failed, why, workarounds, the backend feature needed) follow its sentence
/// in the tool error, whichever layer raised it: the tools know no error type of the registry's.
/// </summary>
public sealed class ToolErrorDetailsTests : IDisposable
{
    private const string Bucket = "data-bucket";
    private readonly Quilt.Testing.TempDirectory _root = new();

    public void Dispose() => _root.Dispose();

    private async Task<McpHarness> StartAsync()
    {
        Directory.CreateDirectory(Path.Join(_root.Path, Bucket));
        return await McpHarness.StartAsync(TestData.Settings(Bucket), new RefusingStore(new LocalFolderStore(_root.Path)));
    }

    [Fact]
    public async Task A_put_refused_by_a_registry_without_upload_answers_the_sentence_then_the_structured_error()
    {
        await using var harness = await StartAsync();
        var text = await harness.CallErrorAsync("bucket_objects_put", $$"""{"objects":[{"uri":"s3://{{Bucket}}/up/x.txt","text":"x"}]}""");

        var expected = RefusingStore.UploadRefusal(new ObjectRef(Bucket, "up/x.txt"));
        Assert.Equal($"Writing s3://{Bucket}/up/x.txt failed: {expected.Message} No object was written; the rest were not attempted.\n{expected.ToJson().ToJsonString()}", text);
        Assert.False(File.Exists(Path.Join(_root.Path, Bucket, "up", "x.txt")));
    }

    [Fact]
    public async Task Any_storage_error_with_details_shows_them_after_its_message()
    {
        await using var harness = await StartAsync();
        var text = await harness.CallErrorAsync("bucket_object_delete", $$"""{"uri":"s3://{{Bucket}}/keep.txt"}""");
        Assert.Equal(DetailedStorageException.Text + "\n" + """{"error":"Deleting is not possible here","backend_feature_needed":"delete"}""", text);
    }

    private sealed class DetailedStorageException() : StorageException(Text), IErrorDetails
    {
        public const string Text = "Deleting is not possible through this store. Nothing was deleted.";

        public JsonObject Details => new() { ["error"] = "Deleting is not possible here", ["backend_feature_needed"] = "delete" };
    }

    /// <summary>A real local store that refuses puts as a stock registry does, and deletes with a detailed error.</summary>
    private sealed class RefusingStore(IObjectStore inner) : Quilt.Testing.DelegatingObjectStore(inner)
    {
        public static UploadNotSupportedException UploadRefusal(ObjectRef target) =>
            new(target, new Uri("https://registry.example.com/"), new StorageException("no generateUploadUrl"));

        public override Task<PutResult> PutAsync(PutRequest request, Stream content, IProgress<long>? progress = null, CancellationToken cancellationToken = default) =>
            throw UploadRefusal(new ObjectRef(request.Bucket, request.Key));

        public override Task DeleteAsync(ObjectRef obj, CancellationToken cancellationToken = default) => throw new DetailedStorageException();
    }
}
