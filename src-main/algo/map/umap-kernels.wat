;; UMAP's hot loops in SIMD: the SGD epoch over a range of rows (f32x4; see umap-sgd.ts for the memory layout and
;; the semantics) and the sparse-times-dense product of the spectral initialization (f64x2; see umap.ts).
;; Assembled into umap-kernels.wasm.ts by `node resources/build-wasm.mjs`; a test checks the committed bytes match.
(module
  (import "env" "mem" (memory 1 65536 shared))

  ;; murmur3 finalizer of (seed, epoch, row): start of that row's negative-sampling stream in that epoch
  (func $streamSeed (param $s i32) (param $e i32) (param $r i32) (result i32)
    (local $x i32)
    (local.set $x
      (i32.xor
        (i32.xor (local.get $s)
          (i32.mul (i32.add (local.get $e) (i32.const 0x632be5ab)) (i32.const 0x9e3779b1)))
        (i32.mul (i32.add (local.get $r) (i32.const 1)) (i32.const 0x85ebca77))))
    (local.set $x (i32.mul (i32.xor (local.get $x) (i32.shr_u (local.get $x) (i32.const 16))) (i32.const 0x7feb352d)))
    (local.set $x (i32.mul (i32.xor (local.get $x) (i32.shr_u (local.get $x) (i32.const 15))) (i32.const 0x846ca68b)))
    (local.set $x (i32.xor (local.get $x) (i32.shr_u (local.get $x) (i32.const 16))))
    (select (local.get $x) (i32.const 0x6d2b79f5) (local.get $x)))

  ;; dv = h - row (bytes: row length in bytes, a multiple of 16); returns |dv|^2
  (func $diff (param $h i32) (param $o i32) (param $dv i32) (param $bytes i32) (result f32)
    (local $q i32) (local $x v128) (local $acc v128)
    (local.set $acc (v128.const i32x4 0 0 0 0))
    (loop $l
      (local.set $x
        (f32x4.sub
          (v128.load (i32.add (local.get $h) (local.get $q)))
          (v128.load (i32.add (local.get $o) (local.get $q)))))
      (v128.store (i32.add (local.get $dv) (local.get $q)) (local.get $x))
      (local.set $acc (f32x4.add (local.get $acc) (f32x4.mul (local.get $x) (local.get $x))))
      (local.set $q (i32.add (local.get $q) (i32.const 16)))
      (br_if $l (i32.lt_u (local.get $q) (local.get $bytes))))
    (f32.add
      (f32.add (f32x4.extract_lane 0 (local.get $acc)) (f32x4.extract_lane 1 (local.get $acc)))
      (f32.add (f32x4.extract_lane 2 (local.get $acc)) (f32x4.extract_lane 3 (local.get $acc)))))

  ;; h += clip(gc * dv, -4, 4) * step
  (func $move (param $h i32) (param $dv i32) (param $bytes i32) (param $gc f32) (param $step v128)
    (local $q i32) (local $g v128) (local $hp i32)
    (local $gv v128) (local $lo v128) (local $hi v128)
    (local.set $gv (f32x4.splat (local.get $gc)))
    (local.set $hi (f32x4.splat (f32.const 4)))
    (local.set $lo (f32x4.splat (f32.const -4)))
    (loop $l
      (local.set $g
        (f32x4.max (local.get $lo)
          (f32x4.min (local.get $hi)
            (f32x4.mul (local.get $gv) (v128.load (i32.add (local.get $dv) (local.get $q)))))))
      (local.set $hp (i32.add (local.get $h) (local.get $q)))
      (v128.store (local.get $hp)
        (f32x4.add (v128.load (local.get $hp)) (f32x4.mul (local.get $g) (local.get $step))))
      (local.set $q (i32.add (local.get $q) (i32.const 16)))
      (br_if $l (i32.lt_u (local.get $q) (local.get $bytes)))))

;; dst[a] = self * src[a] + sum_p vals[p] * src[cols[p]] for rows a in lo..hi of a CSR matrix; src and dst are
  ;; row-major f64 blocks of rowBytes per row (a multiple of 16)
  (func (export "spmm")
    (param $lo i32) (param $hi i32) (param $rowBytes i32) (param $self f64)
    (param $indptr i32) (param $cols i32) (param $vals i32) (param $src i32) (param $dst i32)
    (local $a i32) (local $p i32) (local $pe i32) (local $q i32) (local $d i32) (local $s i32)
    (local $w v128) (local $ao i32)
    (local.set $w (f64x2.splat (local.get $self)))
    (local.set $a (local.get $lo))
    (block $rowsDone
      (loop $rows
        (br_if $rowsDone (i32.ge_u (local.get $a) (local.get $hi)))
        (local.set $ao (i32.mul (local.get $a) (local.get $rowBytes)))
        (local.set $d (i32.add (local.get $dst) (local.get $ao)))
        (local.set $s (i32.add (local.get $src) (local.get $ao)))
        (local.set $w (f64x2.splat (local.get $self)))
        (local.set $q (i32.const 0))
        (loop $init
          (v128.store (i32.add (local.get $d) (local.get $q))
            (f64x2.mul (local.get $w) (v128.load (i32.add (local.get $s) (local.get $q)))))
          (local.set $q (i32.add (local.get $q) (i32.const 16)))
          (br_if $init (i32.lt_u (local.get $q) (local.get $rowBytes))))
        (local.set $p (i32.load (i32.add (local.get $indptr) (i32.shl (local.get $a) (i32.const 2)))))
        (local.set $pe (i32.load offset=4 (i32.add (local.get $indptr) (i32.shl (local.get $a) (i32.const 2)))))
        (block $edgesDone
          (loop $edges
            (br_if $edgesDone (i32.ge_u (local.get $p) (local.get $pe)))
            (local.set $w (f64x2.splat (f64.load (i32.add (local.get $vals) (i32.shl (local.get $p) (i32.const 3))))))
            (local.set $s
              (i32.add (local.get $src)
                (i32.mul (i32.load (i32.add (local.get $cols) (i32.shl (local.get $p) (i32.const 2)))) (local.get $rowBytes))))
            (local.set $q (i32.const 0))
            (loop $acc
              (v128.store (i32.add (local.get $d) (local.get $q))
                (f64x2.add
                  (v128.load (i32.add (local.get $d) (local.get $q)))
                  (f64x2.mul (local.get $w) (v128.load (i32.add (local.get $s) (local.get $q))))))
              (local.set $q (i32.add (local.get $q) (i32.const 16)))
              (br_if $acc (i32.lt_u (local.get $q) (local.get $rowBytes))))
            (local.set $p (i32.add (local.get $p) (i32.const 1)))
            (br $edges)))
        (local.set $a (i32.add (local.get $a) (i32.const 1)))
        (br $rows))))

  (func (export "epoch")
    (param $lo i32) (param $hi i32) (param $ep i32) (param $alpha f32)
    (param $n i32) (param $stride i32) (param $dim i32)
    (param $a f32) (param $twoAB f32) (param $twoGB f32) (param $seed i32)
    (param $pt i32) (param $indptr i32) (param $tail i32)
    (param $eps i32) (param $eons i32) (param $epns i32) (param $eonns i32)
    (param $src i32) (param $dst i32) (param $h i32) (param $dv i32)
    (local $i i32) (local $p i32) (local $pe i32) (local $q i32) (local $rowBytes i32)
    (local $ko i32) (local $d2 f32) (local $pb f32) (local $epf f64)
    (local $nNeg i32) (local $t i32) (local $rnd i32) (local $kk i32) (local $push f32)
    (local $alphav v128) (local $alpha2v v128) (local $p8 i32)
    (local.set $rowBytes (i32.shl (local.get $stride) (i32.const 2)))
    (local.set $epf (f64.convert_i32_s (local.get $ep)))
    (local.set $alphav (f32x4.splat (local.get $alpha)))
    (local.set $alpha2v (f32x4.splat (f32.mul (local.get $alpha) (f32.const 2))))
    (local.set $push (f32.mul (local.get $alpha) (f32.const 4)))
    (local.set $i (local.get $lo))
    (block $rowsDone
      (loop $rows
        (br_if $rowsDone (i32.ge_u (local.get $i) (local.get $hi)))
        (memory.copy (local.get $h)
          (i32.add (local.get $src) (i32.mul (local.get $i) (local.get $rowBytes)))
          (local.get $rowBytes))
        (local.set $rnd (i32.const 0))
        (local.set $p (i32.load (i32.add (local.get $indptr) (i32.shl (local.get $i) (i32.const 2)))))
        (local.set $pe (i32.load offset=4 (i32.add (local.get $indptr) (i32.shl (local.get $i) (i32.const 2)))))
        (block $edgesDone
          (loop $edges
            (br_if $edgesDone (i32.ge_u (local.get $p) (local.get $pe)))
            (local.set $p8 (i32.shl (local.get $p) (i32.const 3)))
            (block $nextEdge
              (br_if $nextEdge
                (f64.gt (f64.load (i32.add (local.get $eons) (local.get $p8))) (local.get $epf)))
              ;; attraction to the edge's tail, applied twice (the reverse edge's move_other share)
              (local.set $ko
                (i32.add (local.get $src)
                  (i32.mul
                    (i32.load (i32.add (local.get $tail) (i32.shl (local.get $p) (i32.const 2))))
                    (local.get $rowBytes))))
              (local.set $d2 (call $diff (local.get $h) (local.get $ko) (local.get $dv) (local.get $rowBytes)))
              (if (f32.gt (local.get $d2) (f32.const 0))
                (then
                  (local.set $pb
                    (f32.load (i32.add (local.get $pt)
                      (i32.shl (i32.shr_u (i32.reinterpret_f32 (local.get $d2)) (i32.const 13)) (i32.const 2)))))
                  (call $move (local.get $h) (local.get $dv) (local.get $rowBytes)
                    (f32.div
                      (f32.mul (f32.neg (local.get $twoAB)) (f32.div (local.get $pb) (local.get $d2)))
                      (f32.add (f32.mul (local.get $a) (local.get $pb)) (f32.const 1)))
                    (local.get $alpha2v))))
              (f64.store (i32.add (local.get $eons) (local.get $p8))
                (f64.add
                  (f64.load (i32.add (local.get $eons) (local.get $p8)))
                  (f64.load (i32.add (local.get $eps) (local.get $p8)))))
              ;; negative samples
              (local.set $nNeg
                (i32.trunc_sat_f64_s
                  (f64.div
                    (f64.sub (local.get $epf) (f64.load (i32.add (local.get $eonns) (local.get $p8))))
                    (f64.load (i32.add (local.get $epns) (local.get $p8))))))
              (if (i32.and (i32.gt_s (local.get $nNeg) (i32.const 0)) (i32.eqz (local.get $rnd)))
                (then (local.set $rnd (call $streamSeed (local.get $seed) (local.get $ep) (local.get $i)))))
              (local.set $t (i32.const 0))
              (block $negDone
                (loop $neg
                  (br_if $negDone (i32.ge_s (local.get $t) (local.get $nNeg)))
                  (local.set $t (i32.add (local.get $t) (i32.const 1)))
                  (local.set $rnd (i32.xor (local.get $rnd) (i32.shl (local.get $rnd) (i32.const 13))))
                  (local.set $rnd (i32.xor (local.get $rnd) (i32.shr_u (local.get $rnd) (i32.const 17))))
                  (local.set $rnd (i32.xor (local.get $rnd) (i32.shl (local.get $rnd) (i32.const 5))))
                  (local.set $kk (i32.rem_u (i32.and (local.get $rnd) (i32.const 0x7fffffff)) (local.get $n)))
                  (br_if $neg (i32.eq (local.get $kk) (local.get $i)))
                  (local.set $d2
                    (call $diff (local.get $h)
                      (i32.add (local.get $src) (i32.mul (local.get $kk) (local.get $rowBytes)))
                      (local.get $dv) (local.get $rowBytes)))
                  (if (f32.gt (local.get $d2) (f32.const 0))
                    (then
                      (call $move (local.get $h) (local.get $dv) (local.get $rowBytes)
                        (f32.div (local.get $twoGB)
                          (f32.mul
                            (f32.add (f32.const 0.001) (local.get $d2))
                            (f32.add
                              (f32.mul (local.get $a)
                                (f32.load (i32.add (local.get $pt)
                                  (i32.shl (i32.shr_u (i32.reinterpret_f32 (local.get $d2)) (i32.const 13)) (i32.const 2)))))
                              (f32.const 1))))
                        (local.get $alphav)))
                    (else
                      ;; coincident points: push by 4 alpha on the real coordinates (padding stays 0)
                      (local.set $q (i32.const 0))
                      (block $pushDone
                        (loop $pushL
                          (br_if $pushDone (i32.ge_u (local.get $q) (local.get $dim)))
                          (f32.store (i32.add (local.get $h) (i32.shl (local.get $q) (i32.const 2)))
                            (f32.add
                              (f32.load (i32.add (local.get $h) (i32.shl (local.get $q) (i32.const 2))))
                              (local.get $push)))
                          (local.set $q (i32.add (local.get $q) (i32.const 1)))
                          (br $pushL)))))
                  (br $neg)))
              (f64.store (i32.add (local.get $eonns) (local.get $p8))
                (f64.add
                  (f64.load (i32.add (local.get $eonns) (local.get $p8)))
                  (f64.mul (f64.convert_i32_s (local.get $nNeg)) (f64.load (i32.add (local.get $epns) (local.get $p8)))))))
            (local.set $p (i32.add (local.get $p) (i32.const 1)))
            (br $edges)))
        (memory.copy
          (i32.add (local.get $dst) (i32.mul (local.get $i) (local.get $rowBytes)))
          (local.get $h)
          (local.get $rowBytes))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $rows))))
)
