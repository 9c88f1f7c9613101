namespace MechInterp.Backends;

/// <summary>Element-wise unary primitives every backend implements.</summary>
internal enum UnaryOp
{
    Neg, Abs, Exp, Log, Sqrt, Rsqrt, Tanh, Sigmoid, Relu,
    /// <summary>Exact GELU: x * Phi(x) with the error function.</summary>
    Gelu,
    /// <summary>Tanh-approximated GELU (HF "gelu_new" / "gelu_pytorch_tanh").</summary>
    GeluTanh,
    Silu, Sign, Sin, Cos, Square, Reciprocal,
    /// <summary>Logical not (Bool input and output).</summary>
    LogicalNot,
}

/// <summary>Element-wise binary primitives with NumPy broadcasting.</summary>
internal enum BinaryOp
{
    Add, Sub, Mul, Div, Pow, Maximum, Minimum,
    /// <summary>Comparisons produce Bool.</summary>
    Eq, Ne, Lt, Le, Gt, Ge,
    /// <summary>Logical ops on Bool.</summary>
    And, Or,
}

/// <summary>Element-wise activations with a fused backward (<see cref="IBackend.UnaryBackward"/>).</summary>
internal enum UnaryGradOp
{
    /// <summary>ReLU: the gradient where x &gt; 0, 0 elsewhere (x may be the input or the output).</summary>
    Relu,
    /// <summary>|x|: the gradient times sign(x), with sign(0) = 0.</summary>
    Abs,
    /// <summary>Tanh GELU (x the input): g·(½(1 + t) + ½x(1 − t²)·√(2/π)(1 + 3·0.044715x²)), t = tanh(√(2/π)(x + 0.044715x³)).</summary>
    GeluTanh,
    /// <summary>SiLU (x the input): g·s(1 + x(1 − s)), s = sigmoid(x).</summary>
    Silu,
    /// <summary>Exact GELU (x the input): g·(Φ(x) + x·φ(x)), Φ and φ the standard normal CDF and density.</summary>
    Gelu,
}

/// <summary>Reductions over one dimension.</summary>
internal enum ReduceOp
{
    Sum, Mean, Max, Min,
    /// <summary>Index of the maximum (Int64 result).</summary>
    ArgMax,
    /// <summary>Index of the minimum (Int64 result).</summary>
    ArgMin,
    /// <summary>log(sum(exp(x))), numerically stable.</summary>
    LogSumExp,
}
