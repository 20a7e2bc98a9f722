using System.Text.Json.Nodes;
using Quilt.Storage;

namespace Quilt.Registry;

/// <summary>The registry refused or failed a request; the message says what happened and what to do.</summary>
public class RegistryException : StorageException
{
    public RegistryException(string message) : base(message) { }
    public RegistryException(string message, Exception inner) : base(message, inner) { }
}

/// <summary>The registry refused an argument (an InvalidInput result); <see cref="Argument"/> names it when the registry did.</summary>
public sealed class RegistryInputException : RegistryException
{
    public RegistryInputException(string message, string? argument) : base(message) => Argument = argument;

    public string? Argument { get; }
}

/// <summary>The registry did not accept the token (missing, expired, forged, wrong audience): HTTP 401.</summary>
public sealed class RegistryAuthenticationException : RegistryException
{
    public RegistryAuthenticationException(string message) : base(message) { }
}

/// <summary>The registry's schema has no such field: it is a registry without that feature (GraphQL "Cannot query field").</summary>
public sealed class RegistryFeatureMissingException : RegistryException
{
    public RegistryFeatureMissingException(string field, string message) : base(message) => Field = field;

    /// <summary>The field the registry does not have, such as generateUploadUrl.</summary>
    public string Field { get; }
}

/// <summary>
/// An upload through a registry that has no upload API (a stock Quilt registry: no generateUploadUrl). Carries the
/// design note's structured error: what failed, why, the workarounds and the backend feature that would unblock it.
/// </summary>
public sealed class UploadNotSupportedException : StorageException, IErrorDetails
{
    public const string BackendFeature = "generateUploadUrl GraphQL mutation (presigned POST upload URLs), as served by quilt-gateway";

    public UploadNotSupportedException(ObjectRef target, Uri registry, Exception inner)
        : base(Describe(target, registry), inner)
    {
        Target = target;
        Registry = registry;
    }

    public ObjectRef Target { get; }
    public Uri Registry { get; }

    public string Error => $"Uploading {Target} is not possible through this registry";

    public string Reason =>
        $"The registry at {Registry} has no upload API: its GraphQL schema lacks generateUploadUrl, and it never hands out AWS " +
        "credentials or presigned upload URLs (by design, the registry controls all S3 access).";

    public IReadOnlyDictionary<string, string> Workarounds => new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["web_ui"] = "Upload the file in the Quilt catalog's web interface.",
        ["aws_cli"] = $"With your own AWS credentials: aws s3 cp <local file> {PhysicalS3Uri}",
        ["then_package"] = $"After uploading, create the package from the S3 URI: package_create with {PhysicalS3Uri}.",
    };

    private string PhysicalS3Uri => $"s3://{Target.Bucket}/{Target.Key}";

    /// <summary>The structured error (see <see cref="ToJson"/>), which tools and the command line show after the message.</summary>
    public JsonObject Details => ToJson();

    /// <summary>The structured error, in the design note's shape.</summary>
    public JsonObject ToJson()
    {
        var workarounds = new JsonObject();
        foreach (var (name, text) in Workarounds)
            workarounds[name] = text;
        return new JsonObject
        {
            ["success"] = false,
            ["error"] = Error,
            ["message"] = Reason,
            ["workarounds"] = workarounds,
            ["backend_feature_needed"] = BackendFeature,
        };
    }

    private static string Describe(ObjectRef target, Uri registry)
    {
        var uri = $"s3://{target.Bucket}/{target.Key}";
        return $"Uploading {uri} is not possible through the registry at {registry}: it has no upload API (no generateUploadUrl " +
            "mutation) and gives out no AWS credentials. Nothing was written. Workarounds: upload the file in the Quilt catalog's web " +
            $"interface; or, with your own AWS credentials, `aws s3 cp <local file> {uri}`, then create the package from the s3:// URI " +
            $"(package_create). Backend feature needed: the {BackendFeature}.";
    }
}
