// The pooling window of maxpool/forward.wgsl and maxpool/backward-input.wgsl, fixed at pipeline creation
// (src/kernels/maxpool.ts windowOverrides) so that every window loop has a constant trip count and no
// index divides by a runtime value: kernel (KD, KH, KW), stride (SD, SH, SW), padding (PD, PH, PW) and
// dilation (DD, DH, DW), depth-height-width order. The defaults are the ResNet stem's in-plane pool.
// Needs nothing from the includer.
override KD: i32 = 1;
override KH: i32 = 3;
override KW: i32 = 3;
override SD: i32 = 1;
override SH: i32 = 2;
override SW: i32 = 2;
override PD: i32 = 0;
override PH: i32 = 1;
override PW: i32 = 1;
override DD: i32 = 1;
override DH: i32 = 1;
override DW: i32 = 1;
