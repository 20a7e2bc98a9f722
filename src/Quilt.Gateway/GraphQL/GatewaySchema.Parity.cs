using System.Text.Json.Nodes;
using GraphQL;
using GraphQL.Utilities;
using Quilt.Gateway.ApiKeys;
using Quilt.Gateway.Services;

namespace Quilt.Gateway.GraphQL;

public sealed record ApiKeyModel(string Id, string Name, string Fingerprint, DateTimeOffset CreatedAt, DateTimeOffset ExpiresAt,
    DateTimeOffset? LastUsedAt, string UserEmail, string Status)
{
    public static ApiKeyModel Of(ApiKeyView k) =>
        new(k.Id, k.Name, k.Fingerprint, k.CreatedAt, k.ExpiresAt, k.LastUsedAt, k.UserEmail, k.Expired ? "EXPIRED" : "ACTIVE");
}

public sealed record ApiKeyCreatedModel(ApiKeyModel ApiKey, string Secret);

// Its one field "_" has a resolver (null), as Ok's has.
public sealed record PackageRevisionDeleteSuccessModel;

// Quilt's API-key mutations and Me fields, packageRevisionDelete and packagePromote: resolvers over their services
// (taken from the request's services, so the record of services the rest of the schema uses stays as it is).
public static partial class GatewaySchema
{
    private static T Service<T>(IResolveFieldContext ctx) where T : notnull => ctx.RequestServices!.GetRequiredService<T>();

    private static void ConfigureParity(SchemaBuilder b)
    {
        b.Types.For("APIKeyCreated").IsTypeOf<ApiKeyCreatedModel>();
        b.Types.For("PackageRevisionDeleteSuccess").IsTypeOf<PackageRevisionDeleteSuccessModel>();
        Resolve(b, "PackageRevisionDeleteSuccess", "_", _ => null);

        Resolve(b, "Me", "apiKeys", async ctx =>
        {
            var name = ctx.GetArgument<string?>("name");
            var fingerprint = ctx.GetArgument<string?>("fingerprint");
            var status = ctx.GetArgument<object?>("status")?.ToString();
            var keys = await Service<ApiKeyService>(ctx).ListAsync(CallerOf(ctx), ctx.CancellationToken);
            return keys.Select(ApiKeyModel.Of)
                .Where(k => (name is null || k.Name == name) && (fingerprint is null || k.Fingerprint == fingerprint) && (status is null || k.Status == status))
                .ToList();
        });
        Resolve(b, "Me", "apiKey", async ctx =>
        {
            var id = ctx.GetArgument<string>("id");
            var keys = await Service<ApiKeyService>(ctx).ListAsync(CallerOf(ctx), ctx.CancellationToken);
            return keys.Where(k => k.Id == id).Select(ApiKeyModel.Of).FirstOrDefault();
        });

        Resolve(b, "Mutation", "apiKeyCreate", ctx => Union(async () =>
        {
            var input = ctx.GetArgument<Dictionary<string, object?>>("input");
            var days = input.GetValueOrDefault("expiresInDays") is { } d ? Convert.ToInt32(d, System.Globalization.CultureInfo.InvariantCulture) : 90;
            var (key, secret) = await Service<ApiKeyService>(ctx).CreateAsync(CallerOf(ctx), input.GetValueOrDefault("name") as string ?? "", days, ctx.CancellationToken);
            return new ApiKeyCreatedModel(ApiKeyModel.Of(key), secret);
        }));
        Resolve(b, "Mutation", "apiKeyRevoke", ctx => Union(async () =>
        {
            await Service<ApiKeyService>(ctx).RevokeAsync(CallerOf(ctx), ctx.GetArgument<string?>("id"), ctx.GetArgument<string?>("secret"), ctx.CancellationToken);
            return new OkModel();
        }));

        Resolve(b, "Mutation", "packageRevisionDelete", ctx => Union(async () =>
        {
            await Service<PackageRevisionService>(ctx).DeleteAsync(CallerOf(ctx), ctx.GetArgument<string>("bucket"), ctx.GetArgument<string>("name"),
                ctx.GetArgument<string>("hash"), ctx.CancellationToken);
            return new PackageRevisionDeleteSuccessModel();
        }, invalidInputAllowed: false));
        Resolve(b, "Mutation", "packagePromote", ctx => Union(async () =>
        {
            var p = ctx.GetArgument<Dictionary<string, object?>>("params");
            var src = ctx.GetArgument<Dictionary<string, object?>>("src");
            var parameters = new ConstructParams((string)p["bucket"]!, (string)p["name"]!, p.GetValueOrDefault("message") as string,
                p.GetValueOrDefault("userMeta") as JsonNode, p.GetValueOrDefault("workflow") as string);
            var (package, revision) = await Service<PackageRevisionService>(ctx).PromoteAsync(CallerOf(ctx), parameters,
                (string)src["bucket"]!, (string)src["name"]!, (string)src["hash"]!, ctx.GetArgument<string?>("destPrefix"),
                Service<TimeProvider>(ctx), ctx.CancellationToken);
            return new PackagePushSuccessModel(package, revision);
        }));
    }
}
