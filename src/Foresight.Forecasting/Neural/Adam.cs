using System.Numerics.Tensors;

namespace Foresight.Forecasting.Neural;

/// <summary>
/// Adam (Kingma and Ba 2015) with decoupled weight decay (AdamW, Loshchilov and Hutter 2019) and global-norm gradient
/// clipping (Pascanu et al. 2013). Works on float parameters in place.
/// </summary>
public sealed class Adam
{
    private readonly IReadOnlyList<Parameter<float>> _parameters;
    private readonly float[][] _m;
    private readonly float[][] _v;

    public Adam(IReadOnlyList<Parameter<float>> parameters, float learningRate = 1e-3f, float beta1 = 0.9f, float beta2 = 0.999f,
        float epsilon = 1e-8f, float weightDecay = 0f, float clipNorm = 1f)
    {
        _parameters = parameters;
        _m = parameters.Select(p => new float[p.Length]).ToArray();
        _v = parameters.Select(p => new float[p.Length]).ToArray();
        LearningRate = learningRate;
        Beta1 = beta1;
        Beta2 = beta2;
        Epsilon = epsilon;
        WeightDecay = weightDecay;
        ClipNorm = clipNorm;
    }

    public float LearningRate { get; set; }

    public float Beta1 { get; }

    public float Beta2 { get; }

    public float Epsilon { get; }

    /// <summary>Decoupled decay: each step multiplies weights by 1 - lr·decay (biases included; decay is small).</summary>
    public float WeightDecay { get; }

    /// <summary>Gradients are scaled so their global L2 norm is at most this (0 disables).</summary>
    public float ClipNorm { get; }

    public long Steps { get; private set; }

    /// <summary>The global gradient norm before clipping, of the last step.</summary>
    public float LastGradientNorm { get; private set; }

    /// <summary>Applies one update from <paramref name="grads"/> (left unchanged except for clipping).</summary>
    public void Step(Gradients<float> grads)
    {
        double sumSq = 0;
        foreach (float[] g in grads.Buffers)
        {
            sumSq += TensorPrimitives.SumOfSquares<float>(g); // [N] -> scalar
        }

        float norm = (float)Math.Sqrt(sumSq);
        LastGradientNorm = norm;
        if (!float.IsFinite(norm))
        {
            return; // skip a poisoned step rather than corrupting the weights
        }

        float clip = ClipNorm > 0 && norm > ClipNorm ? ClipNorm / norm : 1f;
        Steps++;
        float b1c = 1 - MathF.Pow(Beta1, Steps), b2c = 1 - MathF.Pow(Beta2, Steps);
        float lr = LearningRate;
        for (int p = 0; p < _parameters.Count; p++)
        {
            float[] w = _parameters[p].Value, g = grads[p], m = _m[p], v = _v[p];
            if (WeightDecay > 0)
            {
                TensorPrimitives.Multiply(w, 1 - (lr * WeightDecay), w); // [N] · scalar
            }

            for (int i = 0; i < w.Length; i++)
            {
                float gi = g[i] * clip;
                m[i] = (Beta1 * m[i]) + ((1 - Beta1) * gi);
                v[i] = (Beta2 * v[i]) + ((1 - Beta2) * gi * gi);
                w[i] -= lr * (m[i] / b1c) / (MathF.Sqrt(v[i] / b2c) + Epsilon);
            }
        }
    }
}
