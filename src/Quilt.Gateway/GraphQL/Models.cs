using System.Text.Json.Nodes;
using Quilt.Gateway.Services;

namespace Quilt.Gateway.GraphQL;

// The objects GraphQL fields resolve to. Property names match the SDL's field names (matched case-insensitively);
// fields with arguments or lazy data have resolvers in GatewaySchema.

public sealed record MyRoleModel(string Name);

public sealed record MeModel(string Name, string Email, bool IsAdmin, MyRoleModel Role, IReadOnlyList<MyRoleModel> Roles);

public sealed record InputErrorModel(string? Path, string Message, string Name, JsonObject? Context = null);

public sealed record InvalidInputModel(IReadOnlyList<InputErrorModel> Errors);

public sealed record OperationErrorModel(string Message, string Name, JsonObject? Context = null);

public sealed record OkModel;

public sealed record BucketConfigModel(
    string Name, string Title, string? IconUrl, string? Description, string? OverviewUrl, IReadOnlyList<string>? Tags, int RelevanceScore)
{
    public JsonNode? LinkedData => null;
    public DateTimeOffset? LastIndexed => null;
    public bool Browsable => true;
    public IReadOnlyList<object> TabulatorTables => [];
}

public sealed record BucketModel(string Name, string Title, string? IconUrl, string? Description, IReadOnlyList<string>? Tags, int RelevanceScore)
{
    public bool Browsable => true;
    public IReadOnlyList<object> Collaborators => [];
}

public sealed record PackageListModel(string Bucket, IReadOnlyList<string> Names, Caller Caller)
{
    public int Total => Names.Count;
}

public sealed record RevisionListModel(PackageModel Package);

public sealed record PackageFileModel(string Path, JsonObject? Metadata, double Size, string PhysicalKey);

public sealed record PackageDirModel(string Path, JsonObject? Metadata, double Size, IReadOnlyList<object> Children);

public sealed record PackageWorkflowModel(string Config, string? Id);

public sealed record PackagePushSuccessModel(PackageModel Package, RevisionModel Revision);

public sealed record BrowsingSessionModel(string Id, DateTimeOffset Expires);

public sealed record UploadUrlResultModel(string UploadUrl, IReadOnlyDictionary<string, string> Fields, DateTimeOffset Expires);

public sealed record MultipartUploadPartModel(int PartNumber, string UploadUrl, double Size);

public sealed record MultipartUploadModel(string Id, string Bucket, string Key, double Size, double PartSize, IReadOnlyList<MultipartUploadPartModel> Parts, DateTimeOffset Expires);

public sealed record S3ObjectModel(
    string Bucket, string Key, string? Version, double Size, DateTimeOffset Modified, string? ETag, string? ContentType, IReadOnlyDictionary<string, string>? Metadata);

public sealed record BucketObjectListModel(string Bucket, string Prefix, IReadOnlyList<S3ObjectModel> Objects, IReadOnlyList<string> Prefixes, string? Cursor);

public sealed record BrowsingSessionLinkModel(string Url, DateTimeOffset Expires, S3ObjectModel Object);

public sealed record RoleGrantModel(string Bucket, string Prefix, bool Read, bool Write, double MaxUploadBytes);

public sealed record AuditEventModel(string Id, DateTimeOffset Time, string Subject, string? Role, string Action, string? Target, string Outcome, JsonObject? Details);
