using System.Globalization;
using System.Text.Json.Nodes;
using Quilt.Core.Hashing;
using Quilt.Core.Json;

namespace Quilt.Core.Manifests;

/// <summary>
/// One file of a package. <see cref="Meta"/> is the whole entry meta object (user metadata sits under "user_meta");
/// null means <c>{}</c>.
/// </summary>
public sealed record ManifestEntry(string LogicalKey, IReadOnlyList<string> PhysicalKeys, long Size, ObjectHash Hash, JsonObject? Meta = null)
{
    public string PhysicalKey => PhysicalKeys[0];

    /// <summary>
    /// The manifest wrote the size as a float (<c>1.0</c>): Python keeps it a float, so the top hash and a rewritten line
    /// say <c>1.0</c> too.
    /// </summary>
    public bool SizeIsFloat { get; init; }

    /// <summary>The size as Python's json writes it: an int, or the float's repr.</summary>
    internal string SizeText => SizeIsFloat ? PythonJson.FormatFloat(Size) : Size.ToString(CultureInfo.InvariantCulture);

    /// <summary>The user's metadata (meta.user_meta), or null.</summary>
    public JsonNode? UserMeta => Meta?["user_meta"];

    /// <summary>An entry meta object holding <paramref name="userMeta"/> as quilt3's set_meta does, or null for none.</summary>
    public static JsonObject? MetaWithUserMeta(JsonNode? userMeta) =>
        userMeta is null ? null : new JsonObject { ["user_meta"] = userMeta.DeepClone() };
}

/// <summary>
/// A directory metadata line: no physical keys, the folder's key ending in '/'. Not covered by the top hash.
/// </summary>
public sealed record DirectoryMetadata(string LogicalKey, JsonNode? Meta);
