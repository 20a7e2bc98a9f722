using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Amazon.S3.Model;
using Quilt.Gateway.Data;
using Quilt.Testing;

namespace Quilt.Gateway.Tests;

/// <summary>
/// Multipart parts go through the gateway: whatever headers a client adds to a part PUT (x-amz-copy-source above all),
/// S3 only ever gets the part's own bytes, of exactly the part's length, for the upload the URL was made for.
/// </summary>
public sealed class PartUploadTests(GatewayFixture gateway)
{
    private const int MiB = 1024 * 1024;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private async Task<JsonNode> CreateAsync(string token, string key, long size, long? partSize = null, GatewayInstance? via = null)
    {
        var variables = new { b = gateway.Data, k = key, size = (double)size, part = partSize is null ? (double?)null : partSize.Value };
        var data = via is null ? await gateway.DataAsync(token, UploadTests.CreateMultipart, variables) : await via.DataAsync(token, UploadTests.CreateMultipart, variables);
        var created = data["multipartUploadCreate"]!;
        Assert.True(created["__typename"]!.GetValue<string>() == "MultipartUpload", created.ToJsonString());
        return created;
    }

    private static Uri PartUrl(JsonNode created, int number) => new(created["parts"]![number - 1]!["uploadUrl"]!.GetValue<string>());

    private async Task<HttpResponseMessage> PutAsync(Uri url, byte[] body, Action<HttpRequestMessage>? configure = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Put, url) { Content = new ByteArrayContent(body) };
        configure?.Invoke(request);
        return await gateway.Http.SendAsync(request, Ct);
    }

    private async Task<JsonNode> CompleteAsync(string token, string id, params object[] parts) =>
        (await gateway.DataAsync(token, UploadTests.CompleteMultipart, new { id, parts }))["multipartUploadComplete"]!;

    /// <summary>The parts S3 itself holds for the one upload in progress to bucket/key (found without the gateway).</summary>
    private async Task<List<PartDetail>> S3PartsAsync(string key)
    {
        var uploads = await gateway.RawS3.ListMultipartUploadsAsync(new ListMultipartUploadsRequest { BucketName = gateway.Data, Prefix = key }, Ct);
        var upload = Assert.Single(uploads.MultipartUploads ?? [], u => u.Key == key);
        var parts = await gateway.RawS3.ListPartsAsync(new ListPartsRequest { BucketName = gateway.Data, Key = key, UploadId = upload.UploadId }, Ct);
        return parts.Parts ?? [];
    }

#pragma warning disable CA5351 // S3's part ETag is the MD5 of the part.
    private static string Md5Etag(byte[] bytes) => $"\"{Convert.ToHexStringLower(MD5.HashData(bytes))}\"";

    private static string Md5Base64(byte[] bytes) => Convert.ToBase64String(MD5.HashData(bytes));
#pragma warning restore CA5351

    [Fact]
    public async Task A_copy_source_header_on_a_part_url_copies_nothing()
    {
        var subject = GatewayFixture.NewSubject("copy");
        var token = gateway.Tokens.Hs256(subject, "bulk");
        // Readable with the gateway's S3 credentials, but not by the bulk role.
        var secret = Encoding.UTF8.GetBytes("name,salary\nalice,123456\n" + new string('s', 4000));
        var secretKey = $"{subject}/secret.csv";
        await gateway.PutAsync(gateway.Other, secretKey, secret, "text/csv");
        var copySource = $"{gateway.Other}/{secretKey}";

        // The attacker declares exactly the secret's size (as after learning it), so a copied part would complete.
        var key = $"big/{subject}.bin";
        var created = await CreateAsync(token, key, secret.Length);
        var id = created["id"]!.GetValue<string>();

        // UploadPartCopy's shape: the header and no body.
        using (var copy = await PutAsync(PartUrl(created, 1), [], r => r.Headers.TryAddWithoutValidation("x-amz-copy-source", copySource)))
        {
            Assert.Equal(HttpStatusCode.BadRequest, copy.StatusCode);
            Assert.DoesNotContain("salary", await copy.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
        }
        Assert.Empty(await S3PartsAsync(key));
        var notYet = await CompleteAsync(token, id, new { partNumber = 1, etag = Md5Etag(secret) });
        Assert.Equal("InvalidInput", notYet["__typename"]!.GetValue<string>());
        Assert.False(await gateway.ExistsAsync(gateway.Data, key));

        // The header (and its friends) with a body of the right length: only the body is stored.
        var own = RandomNumberGenerator.GetBytes(secret.Length);
        using (var smuggled = await PutAsync(PartUrl(created, 1), own, r =>
        {
            r.Headers.TryAddWithoutValidation("x-amz-copy-source", copySource);
            r.Headers.TryAddWithoutValidation("x-amz-copy-source-range", $"bytes=0-{secret.Length - 1}");
            r.Headers.TryAddWithoutValidation("x-amz-metadata-directive", "REPLACE");
            r.Headers.TryAddWithoutValidation("x-amz-acl", "public-read");
            r.Headers.TryAddWithoutValidation("x-amz-meta-smuggled", "yes");
            r.Headers.TryAddWithoutValidation("x-amz-content-sha256", "UNSIGNED-PAYLOAD");
            r.Headers.TryAddWithoutValidation("x-amz-decoded-content-length", "1");
            r.Content!.Headers.TryAddWithoutValidation("Content-MD5", Md5Base64(secret));
        }))
        {
            Assert.True(smuggled.IsSuccessStatusCode, $"{(int)smuggled.StatusCode}: {await smuggled.Content.ReadAsStringAsync(Ct)}\n{gateway.RecentErrors()}");
            Assert.Equal(Md5Etag(own), smuggled.Headers.ETag!.Tag);
        }
        var done = await CompleteAsync(token, id, new { partNumber = 1, etag = Md5Etag(own) });
        Assert.True(done["__typename"]!.GetValue<string>() == "S3Object", done.ToJsonString());
        var stored = await gateway.ReadAsync(gateway.Data, key);
        Assert.Equal(own, stored);
        Assert.NotEqual(secret, stored);
        var meta = await gateway.RawS3.GetObjectMetadataAsync(gateway.Data, key, Ct);
        Assert.DoesNotContain(meta.Metadata.Keys, k => k.Contains("smuggled", StringComparison.OrdinalIgnoreCase));

        // The trail shows the refused copy and the part that was really sent.
        var audit = await gateway.AuditAsync(subject);
        Assert.Contains(audit, e => e.Action == "multipartUploadPart" && e.Outcome == AuditOutcome.Denied);
        Assert.Contains(audit, e => e.Action == "multipartUploadPart" && e.Outcome == AuditOutcome.Allowed && e.Details!["etag"]!.GetValue<string>() == Md5Etag(own).Trim('"'));
    }

    [Fact]
    public async Task Refusals_never_tell_the_size_of_an_object_the_caller_did_not_send()
    {
        var subject = GatewayFixture.NewSubject("leak");
        var token = gateway.Tokens.Hs256(subject, "bulk");
        var secret = RandomNumberGenerator.GetBytes(7777);
        var secretKey = $"{subject}/secret.bin";
        await gateway.PutAsync(gateway.Other, secretKey, secret);

        var key = $"big/{subject}.bin";
        var created = await CreateAsync(token, key, 100);
        using (var copy = await PutAsync(PartUrl(created, 1), [], r => r.Headers.TryAddWithoutValidation("x-amz-copy-source", $"{gateway.Other}/{secretKey}")))
            Assert.DoesNotContain("7777", await copy.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
        var refused = await CompleteAsync(token, created["id"]!.GetValue<string>(), new { partNumber = 1, etag = Md5Etag(secret) });
        Assert.Equal("InvalidInput", refused["__typename"]!.GetValue<string>());
        Assert.DoesNotContain("7777", refused.ToJsonString(), StringComparison.Ordinal);
        Assert.DoesNotContain(await gateway.AuditAsync(subject), e => e.Details?.ToJsonString().Contains("7777", StringComparison.Ordinal) == true);
    }

    [Fact]
    public async Task A_part_of_any_other_length_is_refused_before_anything_reaches_S3()
    {
        var subject = GatewayFixture.NewSubject("len");
        var token = gateway.Tokens.Hs256(subject, "bulk");
        var key = $"big/{subject}.bin";
        var content = RandomNumberGenerator.GetBytes(6 * MiB);
        var created = await CreateAsync(token, key, content.Length, 5 * MiB);
        var last = content.AsSpan(5 * MiB).ToArray();

        foreach (var wrong in new[] { [.. last, 0], last[..^1], Array.Empty<byte>() })
        {
            using var response = await PutAsync(PartUrl(created, 2), wrong);
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            var text = await response.Content.ReadAsStringAsync(Ct);
            Assert.Contains("<Code>InvalidRequest</Code>", text, StringComparison.Ordinal);
            Assert.Contains($"exactly {MiB} bytes", text, StringComparison.Ordinal);
        }
        // A body of unknown length (chunked) is not taken either.
        using (var chunked = new HttpRequestMessage(HttpMethod.Put, PartUrl(created, 2)) { Content = new StreamContent(TestStreams.NonSeekable(last)) })
        {
            chunked.Headers.TransferEncodingChunked = true;
            using var response = await gateway.Http.SendAsync(chunked, Ct);
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Contains("Content-Length", await response.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
        }
        // A client that promises the part's length but stops sending stores nothing; the gateway records the failure.
        // The connection stays open until then (Kestrel's minimum body data rate ends the stalled body): a client gone
        // before its part was even authorized leaves no part attempt to record, which would make this test a race.
        using (await SendTruncatedAsync(PartUrl(created, 2), MiB, last.AsMemory(0, 1000)))
        {
            for (var i = 0; i < 300 && !(await gateway.AuditAsync(subject)).Any(e => e.Action == "multipartUploadPart" && e.Outcome == AuditOutcome.Failed); i++)
                await Task.Delay(100, Ct);
        }
        var truncated = Assert.Single(await gateway.AuditAsync(subject), e => e.Action == "multipartUploadPart" && e.Outcome == AuditOutcome.Failed);
        Assert.Contains("ended after", truncated.Details!["reason"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Empty(await S3PartsAsync(key));

        using (var right = await PutAsync(PartUrl(created, 1), content[..(5 * MiB)]))
            Assert.Equal(HttpStatusCode.OK, right.StatusCode);
        var refused = await CompleteAsync(token, created["id"]!.GetValue<string>(),
            new { partNumber = 1, etag = Md5Etag(content[..(5 * MiB)]) }, new { partNumber = 2, etag = Md5Etag(last) });
        Assert.Equal("InvalidInput", refused["__typename"]!.GetValue<string>());
        Assert.Contains("Part 2 has not been uploaded", refused["errors"]![0]!["message"]!.GetValue<string>(), StringComparison.Ordinal);

        using (var right = await PutAsync(PartUrl(created, 2), last))
            Assert.Equal(HttpStatusCode.OK, right.StatusCode);
        var done = await CompleteAsync(token, created["id"]!.GetValue<string>(),
            new { partNumber = 1, etag = Md5Etag(content[..(5 * MiB)]) }, new { partNumber = 2, etag = Md5Etag(last) });
        Assert.True(done["__typename"]!.GetValue<string>() == "S3Object", done.ToJsonString());
        Assert.Equal(content, await gateway.ReadAsync(gateway.Data, key));
    }

    /// <summary>
    /// A raw HTTP/1.1 PUT that declares <paramref name="declared"/> bytes and sends only <paramref name="sent"/>, then
    /// stalls; disposing the client hangs up.
    /// </summary>
    private static async Task<TcpClient> SendTruncatedAsync(Uri url, long declared, ReadOnlyMemory<byte> sent)
    {
        var tcp = new TcpClient();
        await tcp.ConnectAsync(url.Host, url.Port, Ct);
        var stream = tcp.GetStream();
        var head = $"PUT {url.PathAndQuery} HTTP/1.1\r\nHost: {url.Authority}\r\nContent-Length: {declared}\r\n\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head), Ct);
        await stream.WriteAsync(sent, Ct);
        await stream.FlushAsync(Ct);
        return tcp;
    }

    [Fact]
    public async Task Forged_foreign_or_expired_part_urls_are_refused()
    {
        var alice = GatewayFixture.NewSubject("alice");
        var bob = GatewayFixture.NewSubject("bob");
        var aliceToken = gateway.Tokens.Hs256(alice, "bulk");
        var bobToken = gateway.Tokens.Hs256(bob, "bulk");
        var aliceKey = $"big/{alice}.bin";
        var aliceUpload = await CreateAsync(aliceToken, aliceKey, 100);
        var bobUpload = await CreateAsync(bobToken, $"big/{bob}.bin", 100);
        var aliceUrl = PartUrl(aliceUpload, 1);
        var bobUrl = PartUrl(bobUpload, 1);
        var aliceId = aliceUpload["id"]!.GetValue<string>();
        var aliceSecret = aliceUrl.Query[(aliceUrl.Query.IndexOf('=', StringComparison.Ordinal) + 1)..];
        var bytes = RandomNumberGenerator.GetBytes(100);
        Assert.StartsWith(new Uri(gateway.BaseUrl, "/uploads/").AbsoluteUri, aliceUrl.AbsoluteUri, StringComparison.Ordinal);

        var flipped = aliceSecret[..^1] + (aliceSecret[^1] == '0' ? '1' : '0');
        var forged = new[]
        {
            new Uri(aliceUrl, $"{aliceUrl.AbsolutePath}?secret={flipped}"),
            new Uri(aliceUrl, aliceUrl.AbsolutePath),
            // Bob's secret on Alice's upload, and Alice's on Bob's.
            new Uri(bobUrl, bobUrl.PathAndQuery.Replace(bobUpload["id"]!.GetValue<string>(), aliceId, StringComparison.Ordinal)),
            new Uri(aliceUrl, aliceUrl.PathAndQuery.Replace(aliceId, bobUpload["id"]!.GetValue<string>(), StringComparison.Ordinal)),
            new Uri(aliceUrl, aliceUrl.PathAndQuery.Replace(aliceId, Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16)), StringComparison.Ordinal)),
        };
        foreach (var url in forged)
        {
            // Bob's token does not make up for a wrong secret.
            using var response = await PutAsync(url, bytes, r => r.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", bobToken));
            Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
            Assert.Contains("<Code>AccessDenied</Code>", await response.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
        }
        using (var missingPart = await PutAsync(new Uri(aliceUrl, aliceUrl.PathAndQuery.Replace("/parts/1?", "/parts/2?", StringComparison.Ordinal)), bytes))
            Assert.Equal(HttpStatusCode.BadRequest, missingPart.StatusCode);
        Assert.Empty(await S3PartsAsync(aliceKey));
        Assert.Contains(await gateway.AllAuditAsync(), e => e.Action == "multipartUploadPart" && e.Subject == "anonymous" && e.Outcome == AuditOutcome.Denied);

        // Expired: a gateway whose clock is moved past the upload's expiry.
        var clock = new ShiftedClock();
        await using var later = await GatewayInstance.StartAsync(gateway, time: clock);
        var expiring = await CreateAsync(aliceToken, $"big/{alice}-expiring.bin", 100, via: later);
        clock.Offset = TimeSpan.FromSeconds(later.Options.Uploads.UrlTtlSeconds + 60);
        using (var expired = await PutAsync(PartUrl(expiring, 1), bytes))
        {
            Assert.Equal(HttpStatusCode.Forbidden, expired.StatusCode);
            Assert.Contains("expired", await expired.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
        }
        Assert.Empty(await S3PartsAsync($"big/{alice}-expiring.bin"));

        // The real URL still works.
        using (var real = await PutAsync(aliceUrl, bytes))
            Assert.Equal(HttpStatusCode.OK, real.StatusCode);
    }

    [Fact]
    public async Task Parts_upload_in_parallel_and_abort_cleans_up()
    {
        var subject = GatewayFixture.NewSubject("par");
        var token = gateway.Tokens.Hs256(subject, "bulk");
        var key = $"big/{subject}.bin";
        var content = RandomNumberGenerator.GetBytes(11 * MiB + 17);
        var created = await CreateAsync(token, key, content.Length, 5 * MiB);
        var parts = created["parts"]!.AsArray();
        var etags = await Task.WhenAll(parts.Select(async p =>
        {
            var number = p!["partNumber"]!.GetValue<int>();
            var slice = content.AsSpan((number - 1) * 5 * MiB, (int)p["size"]!.GetValue<double>()).ToArray();
            using var response = await PutAsync(new Uri(p["uploadUrl"]!.GetValue<string>()), slice);
            Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(Ct)}");
            return new { partNumber = number, etag = response.Headers.ETag!.Tag };
        }));
        var done = await CompleteAsync(token, created["id"]!.GetValue<string>(), etags);
        Assert.True(done["__typename"]!.GetValue<string>() == "S3Object", done.ToJsonString());
        Assert.Equal(content, await gateway.ReadAsync(gateway.Data, key));
        Assert.Empty(await gateway.StateStore.GetPartsAsync(created["id"]!.GetValue<string>(), Ct));

        var abortedKey = $"big/{subject}-aborted.bin";
        var abandoned = await CreateAsync(token, abortedKey, 100);
        var abandonedId = abandoned["id"]!.GetValue<string>();
        using (var part = await PutAsync(PartUrl(abandoned, 1), RandomNumberGenerator.GetBytes(100)))
            Assert.Equal(HttpStatusCode.OK, part.StatusCode);
        Assert.Single(await gateway.StateStore.GetPartsAsync(abandonedId, Ct));
        var aborted = (await gateway.DataAsync(token, "mutation($id: ID!) { multipartUploadAbort(id: $id) { __typename } }", new { id = abandonedId }))["multipartUploadAbort"]!;
        Assert.Equal("Ok", aborted["__typename"]!.GetValue<string>());
        var inS3 = await gateway.RawS3.ListMultipartUploadsAsync(new ListMultipartUploadsRequest { BucketName = gateway.Data, Prefix = abortedKey }, Ct);
        Assert.Empty(inS3.MultipartUploads ?? []);
        Assert.Empty(await gateway.StateStore.GetPartsAsync(abandonedId, Ct));
        using (var afterAbort = await PutAsync(PartUrl(abandoned, 1), RandomNumberGenerator.GetBytes(100)))
            Assert.Equal(HttpStatusCode.Forbidden, afterAbort.StatusCode);
        Assert.False(await gateway.ExistsAsync(gateway.Data, abortedKey));
    }

    [Fact]
    public async Task A_part_larger_than_the_graphql_body_limit_is_taken()
    {
        var subject = GatewayFixture.NewSubject("huge");
        await using var roomy = await GatewayInstance.StartAsync(gateway, o => o.Roles["huge"] = new Configuration.RoleOptions
        {
            Grants = [new Configuration.GrantOptions { Bucket = gateway.Data, Prefix = "huge/", Read = true, Write = true, MaxUploadBytes = 64L * MiB }],
        });
        var token = gateway.Tokens.Hs256(subject, "huge");
        var key = $"huge/{subject}.bin";
        var content = TestStreams.Bytes((int)roomy.Options.MaxRequestBytes + MiB + 3, seed: 7);
        var created = (await roomy.DataAsync(token, UploadTests.CreateMultipart, new { b = gateway.Data, k = key, size = (double)content.Length, part = 32.0 * MiB }))["multipartUploadCreate"]!;
        Assert.Single(created["parts"]!.AsArray());
        using (var part = await PutAsync(new Uri(roomy.BaseUrl, PartUrl(created, 1).PathAndQuery), content))
            Assert.True(part.StatusCode == HttpStatusCode.OK, $"{(int)part.StatusCode}: {await part.Content.ReadAsStringAsync(Ct)}");
        var done = (await roomy.DataAsync(token, UploadTests.CompleteMultipart, new { id = created["id"]!.GetValue<string>(), parts = new[] { new { partNumber = 1, etag = Md5Etag(content) } } }))["multipartUploadComplete"]!;
        Assert.True(done["__typename"]!.GetValue<string>() == "S3Object", done.ToJsonString());
        Assert.Equal(content, await gateway.ReadAsync(gateway.Data, key));
    }

    [Fact]
    public async Task Part_urls_point_at_the_configured_public_url_and_carry_no_token()
    {
        var subject = GatewayFixture.NewSubject("pub");
        var token = gateway.Tokens.Hs256(subject, "bulk");
        await using var proxied = await GatewayInstance.StartAsync(gateway, o => o.PublicUrl = "https://quilt-gateway.example.com/base/");
        var created = await CreateAsync(token, $"big/{subject}.bin", 100, via: proxied);
        var url = PartUrl(created, 1);
        Assert.Equal($"https://quilt-gateway.example.com/base/uploads/{created["id"]!.GetValue<string>()}/parts/1", url.GetLeftPart(UriPartial.Path));
        Assert.DoesNotContain(token, url.AbsoluteUri, StringComparison.Ordinal);
        using (var part = await PutAsync(new Uri(proxied.BaseUrl, $"/uploads/{created["id"]!.GetValue<string>()}/parts/1{url.Query}"), new byte[100]))
            Assert.Equal(HttpStatusCode.OK, part.StatusCode);
        // The secret is not stored: the database holds only its hash.
        var record = await proxied.StateStore.GetUploadAsync(created["id"]!.GetValue<string>(), Ct);
        Assert.NotNull(record?.PartSecretHash);
        Assert.DoesNotContain(record!.PartSecretHash!, url.Query, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_part_secret_is_in_no_log_line_and_no_audit_line()
    {
        var subject = GatewayFixture.NewSubject("quiet");
        var token = gateway.Tokens.Hs256(subject, "bulk");
        var created = await CreateAsync(token, $"big/{subject}.bin", 100);
        var url = PartUrl(created, 1);
        var secret = url.Query[(url.Query.IndexOf('=', StringComparison.Ordinal) + 1)..];
        using (var part = await PutAsync(url, new byte[100]))
            Assert.Equal(HttpStatusCode.OK, part.StatusCode);
        using (var wrong = await PutAsync(url, new byte[99]))
            Assert.Equal(HttpStatusCode.BadRequest, wrong.StatusCode);
        Assert.DoesNotContain(gateway.Logs.Lines, l => l.Contains(secret, StringComparison.Ordinal));
        Assert.DoesNotContain(await gateway.AuditAsync(subject), e => e.Details?.ToJsonString().Contains(secret, StringComparison.Ordinal) == true);
    }

    [Fact]
    public async Task Instances_sharing_postgresql_take_parts_of_each_others_uploads()
    {
        var connection = await PostgresServer.CreateDatabaseAsync(Ct);
        await using var a = await GatewayInstance.StartAsync(gateway, o => o.Audit.Postgres = connection);
        await using var b = await GatewayInstance.StartAsync(gateway, o => o.Audit.Postgres = connection);
        var subject = GatewayFixture.NewSubject("pgpart");
        var token = gateway.Tokens.Hs256(subject, "bulk");
        var key = $"big/{subject}.bin";
        var content = RandomNumberGenerator.GetBytes(100);
        var created = await CreateAsync(token, key, content.Length, via: a);
        // Made on A, sent to B.
        var onB = new Uri(b.BaseUrl, PartUrl(created, 1).PathAndQuery);
        using (var part = await PutAsync(onB, content))
            Assert.Equal(HttpStatusCode.OK, part.StatusCode);
        var done = (await a.DataAsync(token, UploadTests.CompleteMultipart, new { id = created["id"]!.GetValue<string>(), parts = new[] { new { partNumber = 1, etag = Md5Etag(content) } } }))["multipartUploadComplete"]!;
        Assert.True(done["__typename"]!.GetValue<string>() == "S3Object", done.ToJsonString());
        Assert.Equal(content, await gateway.ReadAsync(gateway.Data, key));
    }
}
