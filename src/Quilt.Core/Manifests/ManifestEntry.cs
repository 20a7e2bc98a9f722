using System.Text.Json.Nodes;
using Quilt.Core.Hashing;

namespace Quilt.Core.Manifests;

/// <summary>
/// One file of a package. <see cref="Meta"/> is the whole entry meta object (user metadata sits under "user_meta");
/// null means <c>{}</c>.
/// </summary>
public sealed record ManifestEntry(string LogicalKey, IReadOnlyList<string> PhysicalKeys, long Size, ObjectHash Hash, JsonObject? Meta = null)
{
    public string PhysicalKey => PhysicalKeys[0];

    /// <summary>The user's metadata (meta.user_meta), or null.</summary>
    public JsonNode? UserMeta => Meta?["user_meta"];

    /// <summary>An entry meta object holding <paramref name="userMeta"/> as quilt3's set_meta does, or null for none.</summary>
    public static JsonObject? MetaWithUserMeta(JsonNode? userMeta) =>
        userMeta is null ? null : new JsonObject { ["user_meta"] = userMeta.DeepClone() };
}

/// <summary>A directory metadata line: logical key ending in '/', no physical keys. Not covered by the top hash.</summary>
public sealed record DirectoryMetadata(string LogicalKey, JsonNode? Meta);
