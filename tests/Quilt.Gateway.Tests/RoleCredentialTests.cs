using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Amazon.S3;
using Amazon.S3.Model;
using Quilt.Gateway.Configuration;
using Quilt.Testing;

namespace Quilt.Gateway.Tests;

/// <summary>
/// A role with S3 keys of its own (its own user on the Ceph test server, owning nothing of the gateway's user): what
/// lies outside its S3 user's rights fails at S3 itself, whatever the gateway's policy says.
/// </summary>
public sealed class RoleCredentialTests(GatewayFixture gateway) : IDisposable
{
    private readonly TempDirectory _dir = new("quilt-gateway-role-keys");

    public void Dispose() => _dir.Dispose();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Nothing_outside_the_role_users_buckets_gets_into_its_bucket()
    {
        var (accessKey, secretKey) = gateway.S3.RoleKeys();
        var roleClient = gateway.S3.RoleClient();
        var own = await gateway.S3.CreateRoleBucketAsync(Ct);
        var subject = GatewayFixture.NewSubject("confined");
        // A's secret: in a bucket of the gateway's own S3 user.
        var secret = Encoding.UTF8.GetBytes("top secret " + new string('x', 5000));
        var secretKey2 = $"{subject}/secret.csv";
        await gateway.PutAsync(gateway.Other, secretKey2, secret, "text/csv");

        // 1. Raw UploadPartCopy with the role's own keys: S3 refuses.
        var started = await roleClient.InitiateMultipartUploadAsync(new InitiateMultipartUploadRequest { BucketName = own, Key = "copied.csv" }, Ct);
        var copy = await Assert.ThrowsAsync<AmazonS3Exception>(() => roleClient.CopyPartAsync(new CopyPartRequest
        {
            SourceBucket = gateway.Other,
            SourceKey = secretKey2,
            DestinationBucket = own,
            DestinationKey = "copied.csv",
            UploadId = started.UploadId,
            PartNumber = 1,
        }, Ct));
        Assert.Equal(HttpStatusCode.Forbidden, copy.StatusCode);
        await roleClient.AbortMultipartUploadAsync(own, "copied.csv", started.UploadId, Ct);

        // The role's secret comes from a file; a policy that (wrongly) lets the role read A's bucket changes nothing.
        var secretFile = _dir.Combine("role-secret");
        await File.WriteAllTextAsync(secretFile, secretKey + "\n", Ct);
        await using var confined = await GatewayInstance.StartAsync(gateway, o => o.Roles["confined"] = new RoleOptions
        {
            S3AccessKeyId = accessKey,
            S3SecretAccessKeyFile = secretFile,
            Grants =
            [
                new GrantOptions { Bucket = own, Prefix = "", Read = true, Write = true },
                new GrantOptions { Bucket = gateway.Other, Prefix = "", Read = true },
            ],
        });
        var token = gateway.Tokens.Hs256(subject, "confined");

        // 2. Through the gateway: a part PUT with x-amz-copy-source stores only the bytes sent.
        var created = (await confined.DataAsync(token, UploadTests.CreateMultipart, new { b = own, k = "upload.bin", size = (double)secret.Length }))["multipartUploadCreate"]!;
        Assert.True(created["__typename"]!.GetValue<string>() == "MultipartUpload", created.ToJsonString());
        var body = RandomNumberGenerator.GetBytes(secret.Length);
        using (var request = new HttpRequestMessage(HttpMethod.Put, created["parts"]![0]!["uploadUrl"]!.GetValue<string>()) { Content = new ByteArrayContent(body) })
        {
            request.Headers.TryAddWithoutValidation("x-amz-copy-source", $"{gateway.Other}/{secretKey2}");
            using var response = await gateway.Http.SendAsync(request, Ct);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var done = (await confined.DataAsync(token, UploadTests.CompleteMultipart,
                new { id = created["id"]!.GetValue<string>(), parts = new[] { new { partNumber = 1, etag = response.Headers.ETag!.Tag } } }))["multipartUploadComplete"]!;
            Assert.True(done["__typename"]!.GetValue<string>() == "S3Object", done.ToJsonString());
        }
        using (var stored = await roleClient.GetObjectAsync(own, "upload.bin", Ct))
        using (var buffer = new MemoryStream())
        {
            await stored.ResponseStream.CopyToAsync(buffer, Ct);
            Assert.Equal(body, buffer.ToArray());
        }

        // 3. A package in its bucket naming A's object: the role's S3 user may not even look at it.
        var construct = (await confined.DataAsync(token, """
            mutation($params: PackagePushParams!, $src: PackageConstructSource!) {
              packageConstruct(params: $params, src: $src) { __typename ... on OperationError { name message } ... on InvalidInput { errors { message } } }
            }
            """, new
        {
            @params = new { bucket = own, name = "team/stolen" },
            src = new { entries = new[] { new { logicalKey = "secret.csv", physicalKey = $"s3://{gateway.Other}/{secretKey2}" } } },
        }))["packageConstruct"]!;
        Assert.Equal("OperationError", construct["__typename"]!.GetValue<string>());
        Assert.Equal("Forbidden", construct["name"]!.GetValue<string>());
        var listed = await roleClient.ListObjectsV2Async(new ListObjectsV2Request { BucketName = own, Prefix = ".quilt/" }, Ct);
        Assert.Empty(listed.S3Objects ?? []);

        // The role's keys appear in no audit line.
        var trail = await confined.AuditStore.ReadAsync(new Data.AuditQuery { Limit = 10_000 }, Ct);
        Assert.NotEmpty(trail);
        Assert.DoesNotContain(trail, e => e.Details?.ToJsonString().Contains(secretKey, StringComparison.Ordinal) == true);
    }

    [Fact]
    public void Role_keys_are_checked_at_start_without_printing_the_secret()
    {
        var options = gateway.CreateOptions(_dir.Combine("jwks.json"), _dir.Combine("g.db"));
        File.WriteAllText(_dir.Combine("jwks.json"), gateway.Tokens.Jwks());
        const string Secret = "a-very-secret-role-key";
        options.Roles["noSecret"] = new RoleOptions { S3AccessKeyId = "KEY1", Grants = [new GrantOptions { Bucket = gateway.Data, Read = true }] };
        options.Roles["noKeyId"] = new RoleOptions { S3SecretAccessKey = Secret, Grants = [new GrantOptions { Bucket = gateway.Data, Read = true }] };
        options.Roles["both"] = new RoleOptions
        {
            S3AccessKeyId = "KEY3",
            S3SecretAccessKey = Secret,
            AssumeRoleArn = "arn:aws:iam::123456789012:role/x",
            Grants = [new GrantOptions { Bucket = gateway.Data, Read = true }],
        };
        options.Roles["missingFile"] = new RoleOptions
        {
            S3AccessKeyId = "KEY4",
            S3SecretAccessKeyFile = _dir.Combine("nope"),
            Grants = [new GrantOptions { Bucket = gateway.Data, Read = true }],
        };
        var error = Assert.Throws<GatewayConfigurationException>(() => OptionsValidator.Validate(options));
        Assert.Contains(error.Problems, p => p.Contains("roles.noSecret.s3AccessKeyId is set without a secret", StringComparison.Ordinal));
        Assert.Contains(error.Problems, p => p.Contains("roles.noKeyId has an S3 secret but no s3AccessKeyId", StringComparison.Ordinal));
        Assert.Contains(error.Problems, p => p.Contains("roles.both has both assumeRoleArn and its own S3 keys", StringComparison.Ordinal));
        Assert.Contains(error.Problems, p => p.Contains("roles.missingFile.s3SecretAccessKeyFile", StringComparison.Ordinal));
        Assert.DoesNotContain(Secret, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Role_keys_come_from_the_environment_and_relative_secret_files_from_beside_the_config()
    {
        var config = _dir.Combine("gateway.json");
        File.WriteAllText(config, new JsonObject
        {
            ["roles"] = new JsonObject
            {
                ["a"] = new JsonObject { ["s3AccessKeyId"] = "KEYA", ["grants"] = new JsonArray(new JsonObject { ["bucket"] = "bucket-a", ["read"] = true }) },
                ["b"] = new JsonObject { ["s3AccessKeyId"] = "KEYB", ["s3SecretAccessKeyFile"] = "b.secret", ["grants"] = new JsonArray(new JsonObject { ["bucket"] = "bucket-b", ["read"] = true }) },
            },
        }.ToJsonString());
        var options = ConfigurationLoader.Load(config, [], new Dictionary<string, string?> { ["QUILT_GATEWAY_ROLES__a__S3SECRETACCESSKEY"] = "from-env" });
        Assert.Equal("from-env", options.Roles["a"].S3SecretAccessKey);
        Assert.Equal(_dir.Combine("b.secret"), options.Roles["b"].S3SecretAccessKeyFile);
    }
}
