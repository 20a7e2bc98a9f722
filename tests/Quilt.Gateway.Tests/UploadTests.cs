using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Quilt.Gateway.Data;

namespace Quilt.Gateway.Tests;

/// <summary>generateUploadUrl and the multipart variant: S3 itself enforces the key, content type and size the gateway signed.</summary>
public sealed class UploadTests(GatewayFixture gateway)
{
    private const string Generate = """
        mutation($b: String!, $k: String!, $t: String) {
          generateUploadUrl(bucket: $b, key: $k, contentType: $t) { uploadUrl fields expires }
        }
        """;

    private async Task<JsonNode> UploadUrlAsync(string token, string key, string? contentType = null) =>
        (await gateway.DataAsync(token, Generate, new { b = gateway.Data, k = key, t = contentType }))["generateUploadUrl"]!;

    [Fact]
    public async Task A_presigned_post_uploads_exactly_the_signed_key_and_is_audited()
    {
        var subject = GatewayFixture.NewSubject("post");
        var token = gateway.Tokens.Hs256(subject, "uploader");
        var key = $"incoming/{subject}/data.csv";
        var result = await UploadUrlAsync(token, key, "text/csv");

        Assert.Equal(key, result["fields"]!["key"]!.GetValue<string>());
        Assert.Equal("text/csv", result["fields"]!["Content-Type"]!.GetValue<string>());
        var expires = DateTimeOffset.Parse(result["expires"]!.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(expires, DateTimeOffset.UtcNow.AddMinutes(5), DateTimeOffset.UtcNow.AddHours(1));

        var content = "a,b\n1,2\n"u8.ToArray();
        var (status, body) = await gateway.PostFileAsync(result, content, "text/csv");
        Assert.True(status is HttpStatusCode.NoContent or HttpStatusCode.OK or HttpStatusCode.Created, $"S3 answered {(int)status}: {body}");
        Assert.Equal(content, await gateway.ReadAsync(gateway.Data, key));

        var line = Assert.Single(await gateway.AuditAsync(subject), e => e.Action == "generateUploadUrl");
        Assert.Equal(AuditOutcome.Allowed, line.Outcome);
        Assert.Equal("uploader", line.Role);
        Assert.Equal($"s3://{gateway.Data}/{key}", line.Target);
        Assert.Equal(GatewayFixture.UploaderLimit, line.Details!["maxBytes"]!.GetValue<long>());
        Assert.Equal("text/csv", line.Details!["contentType"]!.GetValue<string>());
    }

    [Fact]
    public async Task S3_refuses_a_file_larger_than_the_roles_limit()
    {
        var subject = GatewayFixture.NewSubject("big");
        var key = $"incoming/{subject}.bin";
        var result = await UploadUrlAsync(gateway.Tokens.Hs256(subject, "uploader"), key);
        var (status, body) = await gateway.PostFileAsync(result, RandomNumberGenerator.GetBytes((int)GatewayFixture.UploaderLimit + 1));
        Assert.True(status == HttpStatusCode.BadRequest, $"S3 answered {(int)status}: {body}");
        Assert.False(await gateway.ExistsAsync(gateway.Data, key));

        // Exactly the limit is fine.
        var (ok, okBody) = await gateway.PostFileAsync(result, RandomNumberGenerator.GetBytes((int)GatewayFixture.UploaderLimit));
        Assert.True(ok is HttpStatusCode.NoContent or HttpStatusCode.OK or HttpStatusCode.Created, $"S3 answered {(int)ok}: {okBody}");
    }

    [Fact]
    public async Task S3_refuses_a_key_or_content_type_other_than_the_signed_one()
    {
        var subject = GatewayFixture.NewSubject("tamper");
        var key = $"incoming/{subject}.txt";
        var result = await UploadUrlAsync(gateway.Tokens.Hs256(subject, "uploader"), key, "text/plain");

        var otherKey = $"incoming/{subject}-other.txt";
        var (status, body) = await gateway.PostFileAsync(result, "x"u8.ToArray(), "text/plain", f => f["key"] = otherKey);
        Assert.True(status == HttpStatusCode.Forbidden, $"S3 answered {(int)status}: {body}");
        Assert.False(await gateway.ExistsAsync(gateway.Data, otherKey));

        // Outside the role's prefix too: the policy is for one key only.
        var escape = "secret.txt";
        (status, body) = await gateway.PostFileAsync(result, "x"u8.ToArray(), "text/plain", f => f["key"] = escape);
        Assert.True(status == HttpStatusCode.Forbidden, $"S3 answered {(int)status}: {body}");
        Assert.False(await gateway.ExistsAsync(gateway.Data, escape));

        (status, body) = await gateway.PostFileAsync(result, "<html>"u8.ToArray(), "text/html", f => f["Content-Type"] = "text/html");
        Assert.True(status == HttpStatusCode.Forbidden, $"S3 answered {(int)status}: {body}");
        Assert.False(await gateway.ExistsAsync(gateway.Data, key));
    }

    public static TheoryData<string, string, string> Refusals => new()
    {
        // role, key (relative: {s} is the subject), expected code
        { "reader", "incoming/{s}.txt", "FORBIDDEN" },
        { "uploader", "outside/{s}.txt", "FORBIDDEN" },
        { "uploader", "incoming/../{s}.txt", "BAD_REQUEST" },
        { "uploader", "incoming//{s}.txt", "BAD_REQUEST" },
        { "uploader", "incoming/{s}/", "BAD_REQUEST" },
        { "outsider", "incoming/{s}.txt", "FORBIDDEN" },
    };

    [Theory]
    [MemberData(nameof(Refusals))]
    public async Task Upload_urls_are_refused_where_the_role_may_not_write(string role, string keyPattern, string code)
    {
        var subject = GatewayFixture.NewSubject("deny");
        var key = keyPattern.Replace("{s}", subject, StringComparison.Ordinal);
        var (status, body) = await gateway.GraphQLAsync(gateway.Tokens.Hs256(subject, role), Generate, new { b = gateway.Data, k = key });
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Null(body["data"]?["generateUploadUrl"]);
        var error = body["errors"]![0]!;
        Assert.Equal(code, error["extensions"]!["code"]!.GetValue<string>());
        Assert.False(string.IsNullOrWhiteSpace(error["message"]!.GetValue<string>()));
        Assert.DoesNotContain("Error trying to resolve", error["message"]!.GetValue<string>(), StringComparison.Ordinal);

        var line = Assert.Single(await gateway.AuditAsync(subject));
        Assert.Equal(AuditOutcome.Denied, line.Outcome);
        Assert.Equal("generateUploadUrl", line.Action);
        Assert.Equal(role, line.Role);
    }

    internal const string CreateMultipart = """
        mutation($b: String!, $k: String!, $size: Float!, $t: String, $part: Float) {
          multipartUploadCreate(bucket: $b, key: $k, size: $size, contentType: $t, partSize: $part) {
            __typename
            ... on MultipartUpload { id bucket key size partSize expires parts { partNumber uploadUrl size } }
            ... on InvalidInput { errors { path message name } }
            ... on OperationError { message name }
          }
        }
        """;

    internal const string CompleteMultipart = """
        mutation($id: ID!, $parts: [MultipartUploadPartInput!]!) {
          multipartUploadComplete(id: $id, parts: $parts) {
            __typename
            ... on S3Object { bucket key version size etag }
            ... on InvalidInput { errors { path message name } }
            ... on OperationError { message name }
          }
        }
        """;

    private async Task<List<object>> PutPartsAsync(JsonNode upload, byte[] content, Func<int, bool>? skip = null)
    {
        var parts = new List<object>();
        long offset = 0;
        foreach (var part in upload["parts"]!.AsArray())
        {
            var size = (int)part!["size"]!.GetValue<double>();
            var bytes = content.AsSpan((int)offset, size).ToArray();
            offset += size;
            var number = part["partNumber"]!.GetValue<int>();
            if (skip?.Invoke(number) == true)
                continue;
            using var body = new ByteArrayContent(bytes);
            using var response = await gateway.Http.PutAsync(new Uri(part["uploadUrl"]!.GetValue<string>()), body, TestContext.Current.CancellationToken);
            Assert.True(response.IsSuccessStatusCode, $"part {number}: the gateway answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)}\n{gateway.RecentErrors()}");
            parts.Add(new { partNumber = number, etag = response.Headers.ETag!.Tag });
        }
        return parts;
    }

    [Fact]
    public async Task A_multipart_upload_completes_into_exactly_the_uploaded_bytes()
    {
        var subject = GatewayFixture.NewSubject("multi");
        var token = gateway.Tokens.Hs256(subject, "bulk");
        var key = $"big/{subject}.bin";
        var content = RandomNumberGenerator.GetBytes(11 * 1024 * 1024 + 17);
        var created = (await gateway.DataAsync(token, CreateMultipart, new { b = gateway.Data, k = key, size = (double)content.Length, t = "application/x-test", part = 5.0 * 1024 * 1024 }))["multipartUploadCreate"]!;
        Assert.Equal("MultipartUpload", created["__typename"]!.GetValue<string>());
        Assert.Equal(3, created["parts"]!.AsArray().Count);
        // Nothing is visible before completion.
        var parts = await PutPartsAsync(created, content);
        Assert.False(await gateway.ExistsAsync(gateway.Data, key));

        var done = (await gateway.DataAsync(token, CompleteMultipart, new { id = created["id"]!.GetValue<string>(), parts }))["multipartUploadComplete"]!;
        Assert.Equal("S3Object", done["__typename"]!.GetValue<string>());
        Assert.Equal(content.Length, done["size"]!.GetValue<double>());
        Assert.Equal(content, await gateway.ReadAsync(gateway.Data, key));
        var meta = await gateway.RawS3.GetObjectMetadataAsync(gateway.Data, key, TestContext.Current.CancellationToken);
        Assert.Equal("application/x-test", meta.Headers.ContentType);

        var audit = await gateway.AuditAsync(subject);
        Assert.Contains(audit, e => e.Action == "multipartUploadCreate" && e.Outcome == AuditOutcome.Allowed && e.Details!["size"]!.GetValue<long>() == content.Length);
        Assert.Contains(audit, e => e.Action == "multipartUploadComplete" && e.Outcome == AuditOutcome.Allowed);
    }

    [Fact]
    public async Task A_part_of_another_length_is_refused_and_the_upload_does_not_complete_without_it()
    {
        var subject = GatewayFixture.NewSubject("multibad");
        var token = gateway.Tokens.Hs256(subject, "bulk");
        var key = $"big/{subject}.bin";
        var content = RandomNumberGenerator.GetBytes(6 * 1024 * 1024);
        var created = (await gateway.DataAsync(token, CreateMultipart, new { b = gateway.Data, k = key, size = (double)content.Length, part = 5.0 * 1024 * 1024 }))["multipartUploadCreate"]!;
        var id = created["id"]!.GetValue<string>();
        var parts = await PutPartsAsync(created, content, skip: n => n == 2);

        // The last part sent larger than declared: the whole would exceed what was authorised, so it never reaches S3.
        var part2 = new Uri(created["parts"]![1]!["uploadUrl"]!.GetValue<string>());
        using (var larger = new ByteArrayContent([.. content.AsSpan(5 * 1024 * 1024), .. RandomNumberGenerator.GetBytes(7 * 1024 * 1024)]))
        using (var response = await gateway.Http.PutAsync(part2, larger, TestContext.Current.CancellationToken))
        {
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Contains("exactly 1048576 bytes", await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken), StringComparison.Ordinal);
        }
        parts.Add(new { partNumber = 2, etag = "\"0123456789abcdef0123456789abcdef\"" });

        var refused = (await gateway.DataAsync(token, CompleteMultipart, new { id, parts }))["multipartUploadComplete"]!;
        Assert.Equal("InvalidInput", refused["__typename"]!.GetValue<string>());
        Assert.Contains("Part 2 has not been uploaded", refused["errors"]![0]!["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.False(await gateway.ExistsAsync(gateway.Data, key));

        // Someone else cannot complete or abort it.
        var stranger = gateway.Tokens.Hs256(GatewayFixture.NewSubject("stranger"), "bulk");
        var foreign = (await gateway.DataAsync(stranger, CompleteMultipart, new { id, parts }))["multipartUploadComplete"]!;
        Assert.Equal("InvalidInput", foreign["__typename"]!.GetValue<string>());
        Assert.Equal("NotFound", foreign["errors"]![0]!["name"]!.GetValue<string>());

        var aborted = (await gateway.DataAsync(token, "mutation($id: ID!) { multipartUploadAbort(id: $id) { __typename } }", new { id }))["multipartUploadAbort"]!;
        Assert.Equal("Ok", aborted["__typename"]!.GetValue<string>());
        Assert.False(await gateway.ExistsAsync(gateway.Data, key));
        var audit = await gateway.AuditAsync(subject);
        Assert.Contains(audit, e => e.Action == "multipartUploadComplete" && e.Outcome == AuditOutcome.Denied);
        Assert.Contains(audit, e => e.Action == "multipartUploadPart" && e.Outcome == AuditOutcome.Denied && e.Details!["part"]!.GetValue<int>() == 2);
        Assert.Contains(audit, e => e.Action == "multipartUploadPart" && e.Outcome == AuditOutcome.Allowed && e.Details!["part"]!.GetValue<int>() == 1);
    }

    [Fact]
    public async Task A_multipart_upload_larger_than_the_limit_is_refused_up_front()
    {
        var subject = GatewayFixture.NewSubject("multibig");
        var refused = (await gateway.DataAsync(gateway.Tokens.Hs256(subject, "bulk"), CreateMultipart,
            new { b = gateway.Data, k = $"big/{subject}.bin", size = (double)GatewayFixture.BulkLimit + 1 }))["multipartUploadCreate"]!;
        Assert.Equal("OperationError", refused["__typename"]!.GetValue<string>());
        Assert.Equal("Forbidden", refused["name"]!.GetValue<string>());
        Assert.Contains(await gateway.AuditAsync(subject), e => e.Action == "multipartUploadCreate" && e.Outcome == AuditOutcome.Denied);
    }
}
