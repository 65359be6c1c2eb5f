namespace Glimpse.Tests.Support;

internal static class Vectors
{
    public static double Cosine(float[] a, float[] b)
    {
        Assert.Equal(a.Length, b.Length);
        double dot = 0, na = 0, nb = 0;
        for (int i = 0; i < a.Length; i++)
        {
            dot += (double)a[i] * b[i];
            na += (double)a[i] * a[i];
            nb += (double)b[i] * b[i];
        }
        return dot / Math.Sqrt(na * nb);
    }

    /// <summary>A random vector of unit length.</summary>
    public static float[] RandomUnit(Random random, int dimension)
    {
        var v = new float[dimension];
        for (int i = 0; i < dimension; i++)
            v[i] = (float)(random.NextDouble() * 2 - 1);
        float norm = System.Numerics.Tensors.TensorPrimitives.Norm(v);
        System.Numerics.Tensors.TensorPrimitives.Divide(v, norm, v);
        return v;
    }
}

/// <summary>How far one tensor or picture is from its reference, element by element: the shared fixtures' tolerance is stated as mean and 99th percentile.</summary>
internal static class Differences
{
    public static (double Mean, double P99) Of(float[] actual, float[] reference) =>
        Summarise(actual.Zip(reference, (a, b) => (double)Math.Abs(a - b)).ToArray(), actual.Length, reference.Length);

    public static (double Mean, double P99) Of(byte[] actual, byte[] reference, int count) =>
        Summarise(Enumerable.Range(0, count).Select(i => (double)Math.Abs(actual[i] - reference[i])).ToArray(), count, count);

    static (double Mean, double P99) Summarise(double[] diffs, int actualLength, int referenceLength)
    {
        Assert.Equal(referenceLength, actualLength);
        Array.Sort(diffs);
        return (diffs.Average(), diffs[(int)(diffs.Length * 0.99)]);
    }
}
