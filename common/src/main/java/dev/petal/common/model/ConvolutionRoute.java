package dev.petal.common.model;

/**
 * How a program computes one convolution. {@link KernelCheck} picks, per kernel shape, the first
 * route that computes correctly on this host.
 */
public enum ConvolutionRoute {
    /**
     * libtorch's own kernels: on a CPU oneDNN's (the fused convolution-ReLU-sum ones when serving,
     * {@code torch.conv2d} when training), elsewhere {@code torch.conv2d}. The fastest where correct.
     */
    NATIVE,
    /**
     * The convolution as a matrix product: a channels-last 1x1 convolution is one GEMM over the pixels,
     * any other is a GEMM over its unfolded patches ({@code im2col}), grouped ones a batched GEMM. It
     * uses no oneDNN convolution kernel, so it holds where those compute wrong results or crash.
     */
    GEMM;

    /**
     * The TorchScript method both programs call for {@link #GEMM}: {@code x} is an NCHW view of
     * channels-last activations, {@code w} an OIHW weight; the result is an NCHW view of a channels-last tensor.
     */
    static final String GEMM_METHOD = """
                def conv_gemm(self, x: Tensor, w: Tensor, b: Optional[Tensor], stride: int, padding: int, groups: int) -> Tensor:
                    n = x.size(0)
                    c = x.size(1)
                    k = w.size(0)
                    kernel = w.size(2)
                    ho = (x.size(2) + 2 * padding - kernel) // stride + 1
                    wo = (x.size(3) + 2 * padding - kernel) // stride + 1
                    if kernel == 1 and padding == 0:
                        if stride > 1:
                            x = x[:, :, ::stride, ::stride]
                        cols = torch.reshape(torch.permute(x, [0, 2, 3, 1]), [n * ho * wo, c])
                    else:
                        cols = torch.im2col(x, [kernel, kernel], [1, 1], [padding, padding], [stride, stride])
                        cols = torch.reshape(torch.permute(cols, [0, 2, 1]), [n * ho * wo, c * kernel * kernel])
                    if groups == 1:
                        y = torch.mm(cols, torch.t(torch.reshape(w, [k, -1])))
                    else:
                        per_group = cols.size(1) // groups
                        cols_g = torch.permute(torch.reshape(cols, [n * ho * wo, groups, per_group]), [1, 0, 2])
                        w_g = torch.permute(torch.reshape(w, [groups, k // groups, per_group]), [0, 2, 1])
                        y = torch.reshape(torch.permute(torch.bmm(cols_g, w_g), [1, 0, 2]), [n * ho * wo, k])
                    if b is not None:
                        y = torch.add(y, b)
                    return torch.permute(torch.reshape(y, [n, ho, wo, k]), [0, 3, 1, 2])
            """;
}
