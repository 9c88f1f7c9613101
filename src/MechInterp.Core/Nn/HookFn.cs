namespace MechInterp;

/// <summary>A hook on a named activation: receives the activation (or, for backward hooks, its gradient) and the
/// hook point; returns a replacement tensor of the same shape, or null to leave it unchanged.</summary>
public delegate Tensor? HookFn(Tensor activation, HookPoint hook);

/// <summary>Which pass a hook runs in.</summary>
public enum HookDirection
{
    /// <summary>On the activation during the forward pass.</summary>
    Forward,
    /// <summary>On the gradient of the loss with respect to the activation during the backward pass.</summary>
    Backward,
}
