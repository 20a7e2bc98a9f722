using System.Text.Json.Nodes;
using GraphQL;
using GraphQL.Resolvers;
using GraphQL.Types;
using GraphQL.Utilities;
using Quilt.Core.Hashing;
using Quilt.Core.Manifests;
using Quilt.Gateway.Data;
using Quilt.Gateway.Services;
using Quilt.Storage;

namespace Quilt.Gateway.GraphQL;

/// <summary>Per-request GraphQL context: the verified caller.</summary>
public sealed class GatewayContext(Caller caller) : Dictionary<string, object?>
{
    public Caller Caller { get; set; } = caller;

    /// <summary>The gateway's address as this client reaches it (publicUrl, else the request's scheme and host): where part URLs point.</summary>
    public string PartUrlBase { get; init; } = "";
}

/// <summary>The services the resolvers call; resolvers only translate between GraphQL and these.</summary>
public sealed record GatewayServices(
    RoleService Roles, UploadService Uploads, BrowsingService Browsing, ObjectService Objects, PackageGatewayService Packages, AuditLog Audit);

/// <summary>Builds the executable schema from schema.graphql (schema-first) with thin resolvers over the services.</summary>
public static partial class GatewaySchema
{
    public const string ResourceName = "Quilt.Gateway.schema.graphql";

    /// <summary>The SDL served at /graphql, as embedded in the assembly.</summary>
    public static string ReadSdl()
    {
        using var stream = typeof(GatewaySchema).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"The embedded resource {ResourceName} is missing from the build.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    /// <summary>The gateway's mutations that upload; a stock Quilt registry has none of them.</summary>
    public static readonly IReadOnlySet<string> UploadMutations =
        new HashSet<string>(StringComparer.Ordinal) { "generateUploadUrl", "multipartUploadCreate", "multipartUploadComplete", "multipartUploadAbort" };

    /// <summary>What introspection fields count for in the complexity limit, relative to other fields.</summary>
    public const double IntrospectionComplexityImpact = 0.02;

    public static ISchema Build(GatewayServices services, bool uploadsEnabled = true)
    {
        ArgumentNullException.ThrowIfNull(services);
        var sdl = uploadsEnabled ? ReadSdl() : WithoutUploadMutations(ReadSdl());
        var schema = Schema.For(sdl, builder => Configure(builder, services));
        schema.RegisterType(new DatetimeGraphType());
        schema.RegisterType(new JsonScalarGraphType("Json", objectsOnly: false));
        schema.RegisterType(new JsonScalarGraphType("JsonRecord", objectsOnly: true));
        schema.RegisterType(new JsonScalarGraphType("PackageContentsFlatMap", objectsOnly: false));
        schema.RegisterType(new PackageOrderingGraphType());
        // GraphQL.NET prices introspection by the schema's real size, so the standard introspection query (as GraphiQL
        // and code generators send it) would cost some 850,000; a fiftieth of that keeps it well inside
        // graphql.maxComplexity while nested introspection, which multiplies, is still refused.
        schema.WithIntrospectionComplexityImpact(IntrospectionComplexityImpact);
        schema.Initialize();
        return schema;
    }

    /// <summary>The SDL without the upload mutations: what a stock registry answers "Cannot query field" to.</summary>
    internal static string WithoutUploadMutations(string sdl)
    {
        var document = GraphQLParser.Parser.Parse(sdl);
        foreach (var extension in document.Definitions.OfType<GraphQLParser.AST.GraphQLObjectTypeExtension>())
        {
            if (extension.Name.StringValue == "Mutation" && extension.Fields is { } fields)
                fields.Items.RemoveAll(f => UploadMutations.Contains(f.Name.StringValue));
        }
        using var writer = new StringWriter(System.Globalization.CultureInfo.InvariantCulture);
        new GraphQLParser.Visitors.SDLPrinter().PrintAsync(document, writer).AsTask().GetAwaiter().GetResult();
        return writer.ToString();
    }

    private static Caller CallerOf(IResolveFieldContext ctx) => ((GatewayContext)ctx.UserContext).Caller;

    private static void Resolve(SchemaBuilder b, string type, string field, Func<IResolveFieldContext, ValueTask<object?>> resolver) =>
        b.Types.For(type).FieldFor(field).Resolver = new FuncFieldResolver<object>(resolver);

    private static void Resolve(SchemaBuilder b, string type, string field, Func<IResolveFieldContext, object?> resolver) =>
        b.Types.For(type).FieldFor(field).Resolver = new FuncFieldResolver<object>(resolver);

    private static void Configure(SchemaBuilder b, GatewayServices s)
    {
        // Object types that appear in unions say which CLR objects are theirs.
        b.Types.For("Me").IsTypeOf<MeModel>();
        b.Types.For("InvalidInput").IsTypeOf<InvalidInputModel>();
        b.Types.For("OperationError").IsTypeOf<OperationErrorModel>();
        b.Types.For("Ok").IsTypeOf<OkModel>();
        b.Types.For("BrowsingSession").IsTypeOf<BrowsingSessionModel>();
        b.Types.For("PackagePushSuccess").IsTypeOf<PackagePushSuccessModel>();
        b.Types.For("PackageFile").IsTypeOf<PackageFileModel>();
        b.Types.For("PackageDir").IsTypeOf<PackageDirModel>();
        b.Types.For("MultipartUpload").IsTypeOf<MultipartUploadModel>();
        b.Types.For("S3Object").IsTypeOf<S3ObjectModel>();
        b.Types.For("BucketObjectList").IsTypeOf<BucketObjectListModel>();
        b.Types.For("BrowsingSessionLink").IsTypeOf<BrowsingSessionLinkModel>();
        Resolve(b, "Ok", "_", _ => null);

        ConfigureQuery(b, s);
        ConfigurePackages(b, s);
        ConfigureMutation(b, s);
        SearchResolvers.Configure(b);
        ConfigureParity(b);
    }

    private static void ConfigureQuery(SchemaBuilder b, GatewayServices s)
    {
        Resolve(b, "Query", "me", ctx => Me(CallerOf(ctx)));
        Resolve(b, "Query", "bucketConfigs", ctx => s.Roles.Buckets(CallerOf(ctx).Role).Select(BucketConfig).ToList());
        Resolve(b, "Query", "bucketConfig", ctx =>
        {
            var name = ctx.GetArgument<string>("name");
            return s.Roles.Buckets(CallerOf(ctx).Role).Where(v => v.Name == name).Select(BucketConfig).FirstOrDefault();
        });
        Resolve(b, "Query", "buckets", ctx => s.Roles.Buckets(CallerOf(ctx).Role).Select(Bucket).ToList());
        Resolve(b, "Query", "bucket", ctx =>
        {
            var name = ctx.GetArgument<string>("name");
            return s.Roles.Buckets(CallerOf(ctx).Role).Where(v => v.Name == name).Select(Bucket).FirstOrDefault();
        });
        Resolve(b, "Query", "packages", async ctx =>
        {
            var caller = CallerOf(ctx);
            var bucket = ctx.GetArgument<string>("bucket");
            var names = await s.Packages.ListAsync(caller, bucket, ctx.GetArgument<string?>("filter"), ctx.CancellationToken);
            return names is null ? null : new PackageListModel(bucket, names, caller);
        });
        Resolve(b, "Query", "package", async ctx =>
            await s.Packages.GetAsync(CallerOf(ctx), ctx.GetArgument<string>("bucket"), ctx.GetArgument<string>("name"), ctx.CancellationToken));
        Resolve(b, "Query", "myGrants", ctx =>
            s.Roles.Grants(CallerOf(ctx).Role).Select(g => new RoleGrantModel(g.Bucket, g.Prefix, g.Read, g.Write, g.MaxUploadBytes)).ToList());
        Resolve(b, "Query", "bucketObjects", ctx => Union(async () =>
        {
            var page = await s.Objects.ListAsync(CallerOf(ctx), ctx.GetArgument<string>("bucket"), ctx.GetArgument("prefix", ""),
                ctx.GetArgument<string?>("delimiter"), ctx.GetArgument("first", 1000), ctx.GetArgument<string?>("after"), ctx.CancellationToken);
            return new BucketObjectListModel(page.Bucket, page.Prefix,
                page.Objects.Select(o => new S3ObjectModel(page.Bucket, o.Key, null, o.Size, o.LastModified, o.ETag, null, null)).ToList(),
                page.Prefixes, page.Cursor);
        }));
        Resolve(b, "Query", "bucketObject", ctx => Union(async () =>
            S3Object(await s.Objects.HeadAsync(CallerOf(ctx), ctx.GetArgument<string>("bucket"), ctx.GetArgument<string>("key"),
                ctx.GetArgument<string?>("version"), ctx.CancellationToken))));
        Resolve(b, "Query", "auditEvents", async ctx =>
        {
            var caller = CallerOf(ctx);
            if (!caller.User.IsAdmin)
            {
                await s.Audit.DeniedAsync(caller, "auditEvents", null, "not an admin", null, ctx.CancellationToken);
                throw new ExecutionError("auditEvents is for admins only: your token does not make you an admin.") { Code = GatewayException.Forbidden };
            }
            long? after = null;
            if (ctx.GetArgument<string?>("after") is { } a)
            {
                after = long.TryParse(a, System.Globalization.CultureInfo.InvariantCulture, out var n)
                    ? n : throw new ExecutionError($"after '{a}' is not an audit event id.") { Code = GatewayException.BadRequest };
            }
            var events = await s.Audit.Store.ReadAsync(new AuditQuery
            {
                Since = ctx.GetArgument<DateTimeOffset?>("since"),
                Until = ctx.GetArgument<DateTimeOffset?>("until"),
                Subject = ctx.GetArgument<string?>("subject"),
                Action = ctx.GetArgument<string?>("action"),
                AfterId = after,
                Limit = Math.Clamp(ctx.GetArgument("first", 100), 1, 1000),
            }, ctx.CancellationToken);
            return events.Select(e => new AuditEventModel(e.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), e.Time, e.Subject, e.Role, e.Action, e.Target, e.Outcome, e.Details)).ToList();
        });
    }

    private static void ConfigurePackages(SchemaBuilder b, GatewayServices s)
    {
        Resolve(b, "PackageList", "page", async ctx =>
        {
            var list = (PackageListModel)ctx.Source!;
            var number = Math.Max(1, ctx.GetArgument("number", 1));
            var perPage = Math.Clamp(ctx.GetArgument("perPage", 30), 1, 1000);
            var order = ctx.GetArgument<object?>("order")?.ToString() ?? "NAME";
            var packages = list.Names.Select(n => s.Packages.Model(list.Caller, list.Bucket, n)).ToList();
            if (order == "MODIFIED")
            {
                var times = new Dictionary<PackageModel, DateTimeOffset>();
                foreach (var p in packages)
                    times[p] = await p.ModifiedAsync(ctx.CancellationToken);
                packages = packages.OrderByDescending(p => times[p]).ToList();
            }
            return packages.Skip((number - 1) * perPage).Take(perPage).ToList();
        });

        Resolve(b, "Package", "modified", async ctx => await ((PackageModel)ctx.Source!).ModifiedAsync(ctx.CancellationToken));
        Resolve(b, "Package", "revisions", ctx => new RevisionListModel((PackageModel)ctx.Source!));
        Resolve(b, "Package", "revision", async ctx =>
            await ((PackageModel)ctx.Source!).RevisionAsync(ctx.GetArgument("hashOrTag", "latest"), ctx.CancellationToken));
        Resolve(b, "PackageRevisionList", "total", async ctx =>
            (await ((RevisionListModel)ctx.Source!).Package.RevisionsAsync(ctx.CancellationToken)).Count);
        Resolve(b, "PackageRevisionList", "page", async ctx =>
        {
            var package = ((RevisionListModel)ctx.Source!).Package;
            var number = Math.Max(1, ctx.GetArgument("number", 1));
            var perPage = Math.Clamp(ctx.GetArgument("perPage", 10), 1, 1000);
            var revisions = await package.RevisionsAsync(ctx.CancellationToken);
            return revisions.Skip((number - 1) * perPage).Take(perPage)
                .Select(r => new RevisionModel(package.Registry, r.TopHash, r.Time)).ToList();
        });

        static async ValueTask<Manifest> ManifestOf(IResolveFieldContext ctx) => await ((RevisionModel)ctx.Source!).ManifestAsync(ctx.CancellationToken);
        Resolve(b, "PackageRevision", "modified", async ctx => await ((RevisionModel)ctx.Source!).ModifiedAsync(ctx.CancellationToken));
        Resolve(b, "PackageRevision", "message", async ctx => (await ManifestOf(ctx)).Message);
        Resolve(b, "PackageRevision", "metadata", async ctx => (await ManifestOf(ctx)).PackageMeta);
        Resolve(b, "PackageRevision", "userMeta", async ctx => (await ManifestOf(ctx)).UserMeta as JsonObject);
        Resolve(b, "PackageRevision", "workflow", async ctx =>
            (await ManifestOf(ctx)).Workflow is JsonObject w && w["config"]?.GetValueKind() == System.Text.Json.JsonValueKind.String
                ? new PackageWorkflowModel(w["config"]!.GetValue<string>(), w["id"]?.GetValueKind() == System.Text.Json.JsonValueKind.String ? w["id"]!.GetValue<string>() : null)
                : null);
        Resolve(b, "PackageRevision", "totalEntries", async ctx => (await ManifestOf(ctx)).Entries.Count);
        Resolve(b, "PackageRevision", "totalBytes", async ctx => (double)(await ManifestOf(ctx)).TotalSize);
        Resolve(b, "PackageRevision", "file", async ctx =>
        {
            var entry = (await ManifestOf(ctx)).Find(ctx.GetArgument<string>("path"));
            return entry is null ? null : File(entry);
        });
        Resolve(b, "PackageRevision", "dir", async ctx => Dir(await ManifestOf(ctx), ctx.GetArgument<string>("path")));
        Resolve(b, "PackageRevision", "contentsFlatMap", async ctx =>
        {
            var manifest = await ManifestOf(ctx);
            if (manifest.Entries.Count > ctx.GetArgument("max", 1000))
                return null;
            var map = new JsonObject();
            foreach (var e in manifest.Entries)
            {
                map[e.LogicalKey] = new JsonObject
                {
                    ["physicalKey"] = e.PhysicalKey,
                    ["size"] = e.Size,
                    ["hash"] = new JsonObject { ["type"] = e.Hash.Type, ["value"] = e.Hash.Value },
                    ["meta"] = e.Meta?.DeepClone(),
                };
            }
            return map;
        });
    }

    private static void ConfigureMutation(SchemaBuilder b, GatewayServices s)
    {
        Resolve(b, "Mutation", "switchRole", ctx => Union(async () =>
        {
            var context = (GatewayContext)ctx.UserContext;
            context.Caller = await s.Roles.SwitchAsync(context.Caller, ctx.GetArgument<string>("roleName"), ctx.CancellationToken);
            return Me(context.Caller);
        }));

        Resolve(b, "Mutation", "packageConstruct", ctx => Union(async () =>
        {
            var p = ctx.GetArgument<Dictionary<string, object?>>("params");
            var src = ctx.GetArgument<Dictionary<string, object?>>("src");
            var parameters = new ConstructParams((string)p["bucket"]!, (string)p["name"]!, p.GetValueOrDefault("message") as string,
                p.GetValueOrDefault("userMeta") as JsonNode, p.GetValueOrDefault("workflow") as string);
            var entries = ((IEnumerable<object?>)src["entries"]!).Cast<Dictionary<string, object?>>().Select(e => new ConstructEntry(
                (string)e["logicalKey"]!, (string)e["physicalKey"]!,
                e.GetValueOrDefault("hash") is Dictionary<string, object?> h ? new ObjectHash((string)h["type"]!, (string)h["value"]!) : null,
                e.GetValueOrDefault("size") is { } size ? Convert.ToDouble(size, System.Globalization.CultureInfo.InvariantCulture) : null,
                e.GetValueOrDefault("meta") as JsonObject)).ToList();
            var (package, revision) = await s.Packages.ConstructAsync(CallerOf(ctx), parameters, entries, ctx.CancellationToken);
            return new PackagePushSuccessModel(package, revision);
        }));

        Resolve(b, "Mutation", "browsingSessionCreate", ctx => Union(async () =>
        {
            var session = await s.Browsing.CreateAsync(CallerOf(ctx), ctx.GetArgument<string>("scope"), ctx.GetArgument("ttl", 180), ctx.CancellationToken);
            return new BrowsingSessionModel(session.Id, session.Expires);
        }));
        Resolve(b, "Mutation", "browsingSessionRefresh", ctx => Union(async () =>
        {
            var session = await s.Browsing.RefreshAsync(CallerOf(ctx), ctx.GetArgument<string>("id"), ctx.GetArgument("ttl", 180), ctx.CancellationToken);
            return new BrowsingSessionModel(session.Id, session.Expires);
        }));
        Resolve(b, "Mutation", "browsingSessionDispose", ctx => Union(async () =>
        {
            await s.Browsing.DisposeAsync(CallerOf(ctx), ctx.GetArgument<string>("id"), ctx.CancellationToken);
            return new OkModel();
        }, invalidInputAllowed: false));
        Resolve(b, "Mutation", "browsingSessionLink", ctx => Union(async () =>
        {
            var link = await s.Browsing.LinkAsync(CallerOf(ctx), ctx.GetArgument<string>("id"), ctx.GetArgument<string>("path"), ctx.GetArgument("ttl", 60), ctx.CancellationToken);
            return new BrowsingSessionLinkModel(link.Url.AbsoluteUri, link.Expires, S3Object(link.Info));
        }));

        Resolve(b, "Mutation", "generateUploadUrl", async ctx =>
        {
            try
            {
                var url = await s.Uploads.GenerateUploadUrlAsync(CallerOf(ctx), ctx.GetArgument<string>("bucket"), ctx.GetArgument<string>("key"),
                    ctx.GetArgument<string?>("contentType"), ctx.CancellationToken);
                SearchResolvers.UploadUrlIssued(ctx, ctx.GetArgument<string>("bucket"), ctx.GetArgument<string>("key"), url.Expires);
                return new UploadUrlResultModel(url.Url, url.Fields, url.Expires);
            }
            catch (GatewayException ex)
            {
                var error = new ExecutionError(ex.Message) { Code = ex.Code };
                if (ex.Path is not null)
                    error.Data["argument"] = ex.Path;
                throw error;
            }
        });
        Resolve(b, "Mutation", "multipartUploadCreate", ctx => Union(async () =>
        {
            var size = ctx.GetArgument<double>("size");
            var partSize = ctx.GetArgument<double?>("partSize");
            if (size != Math.Floor(size) || size > long.MaxValue || (partSize is { } ps && (ps != Math.Floor(ps) || ps > long.MaxValue)))
                throw GatewayException.Invalid("size and partSize must be whole numbers of bytes.", "size");
            var upload = await s.Uploads.CreateMultipartAsync(CallerOf(ctx), ctx.GetArgument<string>("bucket"), ctx.GetArgument<string>("key"),
                (long)size, ctx.GetArgument<string?>("contentType"), partSize is null ? null : (long)partSize.Value, ((GatewayContext)ctx.UserContext).PartUrlBase,
                ctx.CancellationToken);
            return new MultipartUploadModel(upload.Id, upload.Bucket, upload.Key, upload.Size, upload.PartSize,
                upload.Parts.Select(p => new MultipartUploadPartModel(p.PartNumber, p.Url, p.Size)).ToList(), upload.Expires);
        }));
        Resolve(b, "Mutation", "multipartUploadComplete", ctx => Union(async () =>
        {
            var parts = ctx.GetArgument<List<object?>>("parts").Cast<Dictionary<string, object?>>()
                .Select(p => new CompletedPart(Convert.ToInt32(p["partNumber"], System.Globalization.CultureInfo.InvariantCulture), (string)p["etag"]!)).ToList();
            var done = await s.Uploads.CompleteMultipartAsync(CallerOf(ctx), ctx.GetArgument<string>("id"), parts, ctx.CancellationToken);
            await SearchResolvers.ObjectWrittenAsync(ctx, done.Bucket, done.Key);
            return new S3ObjectModel(done.Bucket, done.Key, done.VersionId, done.Size, done.Modified, done.ETag, null, null);
        }));
        Resolve(b, "Mutation", "multipartUploadAbort", ctx => Union(async () =>
        {
            await s.Uploads.AbortMultipartAsync(CallerOf(ctx), ctx.GetArgument<string>("id"), ctx.CancellationToken);
            return new OkModel();
        }));
    }

    /// <summary>Runs a mutation whose result is a union with InvalidInput/OperationError, turning expected failures into those.</summary>
    private static async ValueTask<object?> Union(Func<Task<object>> body, bool invalidInputAllowed = true)
    {
        try
        {
            return await body();
        }
        catch (GatewayException ex) when (invalidInputAllowed && ex.Code is GatewayException.BadRequest or GatewayException.NotFound)
        {
            return new InvalidInputModel([new InputErrorModel(ex.Path, ex.Message, ex.Code == GatewayException.NotFound ? "NotFound" : "InvalidInput")]);
        }
        catch (GatewayException ex)
        {
            var name = ex.Code switch
            {
                GatewayException.Forbidden => "Forbidden",
                GatewayException.NotFound => "NotFound",
                GatewayException.BadRequest => "InvalidInput",
                GatewayException.Conflict => "Conflict",
                _ => "StorageError",
            };
            return new OperationErrorModel(ex.Message, name, ex.Path is null ? null : new JsonObject { ["path"] = ex.Path });
        }
    }

    private static MeModel Me(Caller caller) =>
        new(caller.User.Name, caller.User.Email, caller.User.IsAdmin, new MyRoleModel(caller.Role), caller.User.GrantedRoles.Select(r => new MyRoleModel(r)).ToList());

    private static BucketConfigModel BucketConfig(BucketView v) =>
        new(v.Name, v.Display?.Title ?? v.Name, v.Display?.IconUrl, v.Display?.Description, v.Display?.OverviewUrl, v.Display?.Tags, v.Display?.RelevanceScore ?? 0);

    private static BucketModel Bucket(BucketView v) =>
        new(v.Name, v.Display?.Title ?? v.Name, v.Display?.IconUrl, v.Display?.Description, v.Display?.Tags, v.Display?.RelevanceScore ?? 0);

    private static S3ObjectModel S3Object(ObjectInfo info) =>
        new(info.Bucket, info.Key, info.VersionId, info.Size, info.LastModified, info.ETag, info.ContentType, info.Metadata);

    private static PackageFileModel File(ManifestEntry e) => new(e.LogicalKey, e.Meta, e.Size, e.PhysicalKey);

    /// <summary>The folder at <paramref name="path"/> ("" for the root) with its direct children, or null when nothing is under it.</summary>
    private static PackageDirModel? Dir(Manifest manifest, string path)
    {
        var prefix = path.Trim('/');
        prefix = prefix.Length == 0 ? "" : prefix + "/";
        var under = manifest.Entries.Where(e => e.LogicalKey.StartsWith(prefix, StringComparison.Ordinal)).ToList();
        if (under.Count == 0 && prefix.Length > 0)
            return null;
        var children = new List<object>();
        var folders = new Dictionary<string, List<ManifestEntry>>(StringComparer.Ordinal);
        foreach (var e in under)
        {
            var rest = e.LogicalKey[prefix.Length..];
            var slash = rest.IndexOf('/', StringComparison.Ordinal);
            if (slash < 0)
            {
                children.Add(File(e));
                continue;
            }
            var folder = prefix + rest[..(slash + 1)];
            if (!folders.TryGetValue(folder, out var list))
                folders[folder] = list = [];
            list.Add(e);
        }
        foreach (var (folder, entries) in folders)
            children.Add(new PackageDirModel(folder, DirMeta(manifest, folder), entries.Sum(e => e.Size), []));
        return new PackageDirModel(prefix, DirMeta(manifest, prefix), under.Sum(e => e.Size), children);
    }

    private static JsonObject? DirMeta(Manifest manifest, string folder) =>
        manifest.DirectoryMetadata.FirstOrDefault(d => d.LogicalKey == folder)?.Meta as JsonObject;

}
