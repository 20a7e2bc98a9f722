using System.Net;
using System.Reflection;
using Amazon.S3;

namespace Quilt.Storage.Tests.S3;

/// <summary>
/// The real client with one fault added: calls go to the server, except those <see cref="FailWhen"/> picks, which
/// throw the error S3 would send. For failures a healthy server will not produce on demand (a part lost midway).
/// </summary>
public class FaultInjectingS3 : DispatchProxy
{
    private IAmazonS3 _inner = null!;

    public Func<MethodInfo, object?[]?, bool> FailWhen { get; set; } = (_, _) => false;

    public int Calls(string method) => _calls.TryGetValue(method, out var n) ? n : 0;

    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, int> _calls = new();

    public static (IAmazonS3 Client, FaultInjectingS3 Faults) Wrap(IAmazonS3 inner)
    {
        var proxy = Create<IAmazonS3, FaultInjectingS3>();
        var faults = (FaultInjectingS3)(object)proxy;
        faults._inner = inner;
        return (proxy, faults);
    }

    protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
    {
        ArgumentNullException.ThrowIfNull(targetMethod);
        _calls.AddOrUpdate(targetMethod.Name, 1, (_, n) => n + 1);
        if (FailWhen(targetMethod, args))
        {
            var error = new AmazonS3Exception("We encountered an internal error. Please try again.")
            {
                ErrorCode = "InternalError",
                StatusCode = HttpStatusCode.InternalServerError,
            };
            if (typeof(Task).IsAssignableFrom(targetMethod.ReturnType))
            {
                var resultType = targetMethod.ReturnType.IsGenericType ? targetMethod.ReturnType.GetGenericArguments()[0] : null;
                return resultType is null
                    ? Task.FromException(error)
                    : typeof(Task).GetMethod(nameof(Task.FromException), 1, [typeof(Exception)])!.MakeGenericMethod(resultType).Invoke(null, [error]);
            }
            throw error;
        }
        try
        {
            return targetMethod.Invoke(_inner, args);
        }
        catch (TargetInvocationException ex) when (ex.InnerException is not null)
        {
            throw ex.InnerException;
        }
    }
}
