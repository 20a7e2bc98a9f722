using System.Text;
using Amazon.S3;
using Amazon.S3.Model;
using Quilt.Gateway.Configuration;
using Quilt.Gateway.Data;
using Quilt.Gateway.Identity;
using Quilt.Gateway.Storage;

namespace Quilt.Gateway.Services;

/// <summary>One reachability check: what was probed, whether it answered, and how (never a secret).</summary>
public sealed record ProbeResult(string Name, bool Ok, string Detail);

/// <summary>The checks behind /readyz and `check --probe`: S3, the database, the JWKS URL, the upstream registry.</summary>
public static class GatewayProbes
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Each configured bucket with a role whose S3 identity the probe uses: the first role granting it, or (every
    /// role) each role with each of its buckets.
    /// </summary>
    public static IReadOnlyList<(string Role, string Bucket)> S3Targets(GatewayOptions options, bool everyRole)
    {
        ArgumentNullException.ThrowIfNull(options);
        var pairs = options.Roles.SelectMany(r => r.Value.Grants.Select(g => (Role: r.Key, g.Bucket))).Distinct();
        return everyRole ? pairs.ToList() : pairs.DistinctBy(p => p.Bucket, StringComparer.Ordinal).ToList();
    }

    /// <summary>Lists at most one key of the bucket with the role's S3 identity (s3:ListBucket, which the gateway needs anyway).</summary>
    public static async Task<ProbeResult> S3Async(S3Access s3, string role, string bucket, TimeSpan timeout, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(s3);
        var name = $"s3 bucket {bucket} (role {role})";
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        try
        {
            await s3.ClientFor(role).ListObjectsV2Async(new ListObjectsV2Request { BucketName = bucket, MaxKeys = 1 }, deadline.Token).ConfigureAwait(false);
            return new ProbeResult(name, true, "listed");
        }
        catch (AmazonS3Exception ex)
        {
            return new ProbeResult(name, false, $"S3 answered {(int)ex.StatusCode} {ex.ErrorCode}");
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new ProbeResult(name, false, $"no answer within {timeout.TotalSeconds:0} s");
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException or Amazon.Runtime.AmazonClientException)
        {
            return new ProbeResult(name, false, ex.Message);
        }
    }

    public static async Task<ProbeResult> DatabaseAsync(SqlGatewayStore store, GatewayOptions options, TimeSpan timeout, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(options);
        var name = store is PostgresGatewayStore ? "database postgresql (audit.postgres)" : $"database sqlite {options.Audit.SqlitePath}";
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        try
        {
            await store.PingAsync(deadline.Token).ConfigureAwait(false);
            return new ProbeResult(name, true, "answered");
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new ProbeResult(name, false, $"no answer within {timeout.TotalSeconds:0} s");
        }
        catch (Exception ex) when (ex is System.Data.Common.DbException or InvalidOperationException or IOException or TimeoutException)
        {
            return new ProbeResult(name, false, ex.Message);
        }
    }

    /// <summary>Reads the JWKS URL and checks it holds usable public keys.</summary>
    public static async Task<ProbeResult> JwksAsync(HttpClient http, string url, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(http);
        var name = $"jwks {url}";
        try
        {
            using var response = await http.GetAsync(new Uri(url), cancellationToken).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
                return new ProbeResult(name, false, $"answered HTTP {(int)response.StatusCode}");
            var keys = SigningKeys.ParseJwks(await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false), $"jwt.jwksUrl '{url}'");
            return new ProbeResult(name, true, $"{keys.Count} signing keys");
        }
        catch (GatewayConfigurationException ex)
        {
            return new ProbeResult(name, false, string.Join(" ", ex.Problems));
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            return new ProbeResult(name, false, ex.Message);
        }
    }

    /// <summary>
    /// Sends the upstream registry <c>{ __typename }</c> without a token: any answer below 500 (a Quilt registry may
    /// answer 401 to a request without one) shows it is there and speaks HTTP.
    /// </summary>
    public static async Task<ProbeResult> UpstreamAsync(HttpClient http, string url, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(http);
        var name = $"upstream {url}";
        try
        {
            using var content = new StringContent("""{"query":"{ __typename }"}""", Encoding.UTF8, "application/json");
            using var response = await http.PostAsync(new Uri(url), content, cancellationToken).ConfigureAwait(false);
            var status = (int)response.StatusCode;
            return new ProbeResult(name, status < 500, $"answered HTTP {status}");
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            return new ProbeResult(name, false, ex.Message);
        }
    }
}
