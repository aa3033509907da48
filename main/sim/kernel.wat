;; The fast simulator's kernel in WebAssembly with SIMD (main/sim/wasm.ts runs it;
;; scripts/build-wasm.mjs compiles this text into dist/main/sim/kernel-wasm.js).
;;
;; The same arithmetic as kernel.ts and the node, bit for bit: a drift (x, y)
;; is one f64x2, and every f64x2 operation is the IEEE operation of the
;; scalar code on each lane, in the scalar code's order:
;; - the neighbour sum is 0 + r_j0 + r_j1 + ... left to right (peerPull),
;;   then / d and - x (a true division: the same double as the reference's);
;; - Metropolis adds w_ij * (r_j - x) per neighbour with w_ij the smaller of
;;   the two 1 / (1 + d) (kernel.ts metropolisPulls);
;; - the entropy is seededRandom's sfc32 in i32 ops, two outputs u = t * 2^-32
;;   * 2 - 1 per draw, drawn again while |u|^2 < MIN_ENTROPY_NORM^2
;;   (sampleEntropy), a scalar loop;
;; - D = (alpha * u) / |u| + beta * P - gamma * x and x + D (driftDiffInto).
;; No fused multiply-add exists in this instruction set (wasm never contracts),
;; no operation is reordered. Stubborn nodes (pinned[i] != 0) are skipped.
;;
;; Every array is a byte address in the one imported memory (compared
;; unsigned: a memory may be up to 4 GiB); drift buffers are 16-byte aligned. The build writes two modules from this text: the
;; memory import as it is here (not shared, one thread) and with `shared`
;; (worker threads over one SharedArrayBuffer).
(module
  (import "env" "memory" (memory 1))

  ;; Entropy and step of node i from its drift xi and pull, into out; advances its sfc32 state.
  (func $step (param $i i32) (param $xi v128) (param $pull v128) (param $out i32) (param $rng i32)
              (param $alpha f64) (param $beta f64) (param $gamma f64) (param $minNorm2 f64)
    (local $r i32) (local $a i32) (local $b i32) (local $c i32) (local $d i32) (local $t i32)
    (local $ux f64) (local $uy f64) (local $n2 f64) (local $u v128)
    (local.set $r (i32.add (local.get $rng) (i32.shl (local.get $i) (i32.const 4))))
    (local.set $a (i32.load offset=0 (local.get $r)))
    (local.set $b (i32.load offset=4 (local.get $r)))
    (local.set $c (i32.load offset=8 (local.get $r)))
    (local.set $d (i32.load offset=12 (local.get $r)))
    (loop $draw
      ;; sfc32, as prng.ts seededRandom: t = a + b + d; d++; a = b ^ b >>> 9; b = c + c << 3; c = rotl(c, 21) + t
      (local.set $t (i32.add (i32.add (local.get $a) (local.get $b)) (local.get $d)))
      (local.set $d (i32.add (local.get $d) (i32.const 1)))
      (local.set $a (i32.xor (local.get $b) (i32.shr_u (local.get $b) (i32.const 9))))
      (local.set $b (i32.add (local.get $c) (i32.shl (local.get $c) (i32.const 3))))
      (local.set $c (i32.add (i32.rotl (local.get $c) (i32.const 21)) (local.get $t)))
      (local.set $ux (f64.sub (f64.mul (f64.mul (f64.convert_i32_u (local.get $t)) (f64.const 0x1p-32)) (f64.const 2)) (f64.const 1)))
      (local.set $t (i32.add (i32.add (local.get $a) (local.get $b)) (local.get $d)))
      (local.set $d (i32.add (local.get $d) (i32.const 1)))
      (local.set $a (i32.xor (local.get $b) (i32.shr_u (local.get $b) (i32.const 9))))
      (local.set $b (i32.add (local.get $c) (i32.shl (local.get $c) (i32.const 3))))
      (local.set $c (i32.add (i32.rotl (local.get $c) (i32.const 21)) (local.get $t)))
      (local.set $uy (f64.sub (f64.mul (f64.mul (f64.convert_i32_u (local.get $t)) (f64.const 0x1p-32)) (f64.const 2)) (f64.const 1)))
      (local.set $n2 (f64.add (f64.mul (local.get $ux) (local.get $ux)) (f64.mul (local.get $uy) (local.get $uy))))
      (br_if $draw (f64.lt (local.get $n2) (local.get $minNorm2))))
    (i32.store offset=0 (local.get $r) (local.get $a))
    (i32.store offset=4 (local.get $r) (local.get $b))
    (i32.store offset=8 (local.get $r) (local.get $c))
    (i32.store offset=12 (local.get $r) (local.get $d))
    (local.set $u (f64x2.replace_lane 1 (f64x2.splat (local.get $ux)) (local.get $uy)))
    ;; out = xi + (((alpha * u) / |u| + beta * pull) - gamma * xi)
    (v128.store
      (i32.add (local.get $out) (i32.shl (local.get $i) (i32.const 4)))
      (f64x2.add (local.get $xi)
        (f64x2.sub
          (f64x2.add
            (f64x2.div (f64x2.mul (f64x2.splat (local.get $alpha)) (local.get $u)) (f64x2.splat (f64.sqrt (local.get $n2))))
            (f64x2.mul (f64x2.splat (local.get $beta)) (local.get $pull)))
          (f64x2.mul (f64x2.splat (local.get $gamma)) (local.get $xi))))))

  ;; Seed rule, nodes from..to-1, node by node (pull, entropy, step): the faster order while the
  ;; drifts fit in the cache. pull = (0 + sum of the peers' drifts) / d - own; [0, 0] without peers.
  (func (export "seedRound") (param $x i32) (param $out i32) (param $from i32) (param $to i32)
        (param $offsets i32) (param $adj i32) (param $rng i32) (param $pinned i32)
        (param $alpha f64) (param $beta f64) (param $gamma f64) (param $minNorm2 f64)
    (local $i i32) (local $q i32) (local $qe i32) (local $deg i32) (local $xi v128) (local $acc v128) (local $pull v128)
    (local.set $i (local.get $from))
    (block $done
      (br_if $done (i32.ge_s (local.get $i) (local.get $to)))
      (loop $node
        (block $skip
          (br_if $skip (i32.and (i32.ne (local.get $pinned) (i32.const 0))
                                (i32.ne (i32.load8_u (i32.add (local.get $pinned) (local.get $i))) (i32.const 0))))
          (local.set $q (i32.load (i32.add (local.get $offsets) (i32.shl (local.get $i) (i32.const 2)))))
          (local.set $qe (i32.load offset=4 (i32.add (local.get $offsets) (i32.shl (local.get $i) (i32.const 2)))))
          (local.set $deg (i32.sub (local.get $qe) (local.get $q)))
          (local.set $xi (v128.load (i32.add (local.get $x) (i32.shl (local.get $i) (i32.const 4)))))
          (local.set $pull (v128.const f64x2 0 0))
          (if (i32.gt_s (local.get $deg) (i32.const 0))
            (then
              (local.set $acc (v128.const f64x2 0 0))
              (local.set $q (i32.add (local.get $adj) (i32.shl (local.get $q) (i32.const 2))))
              (local.set $qe (i32.add (local.get $adj) (i32.shl (local.get $qe) (i32.const 2))))
              ;; Runs of 4 peers, then the rest one by one: the same left-to-right sum.
              (block $fours
                (loop $four
                  (br_if $fours (i32.lt_u (i32.sub (local.get $qe) (local.get $q)) (i32.const 16)))
                  (local.set $acc (f64x2.add (f64x2.add (f64x2.add (f64x2.add (local.get $acc)
                    (v128.load (i32.add (local.get $x) (i32.shl (i32.load offset=0 (local.get $q)) (i32.const 4)))))
                    (v128.load (i32.add (local.get $x) (i32.shl (i32.load offset=4 (local.get $q)) (i32.const 4)))))
                    (v128.load (i32.add (local.get $x) (i32.shl (i32.load offset=8 (local.get $q)) (i32.const 4)))))
                    (v128.load (i32.add (local.get $x) (i32.shl (i32.load offset=12 (local.get $q)) (i32.const 4))))))
                  (local.set $q (i32.add (local.get $q) (i32.const 16)))
                  (br $four)))
              (block $ones
                (loop $one
                  (br_if $ones (i32.ge_u (local.get $q) (local.get $qe)))
                  (local.set $acc (f64x2.add (local.get $acc)
                    (v128.load (i32.add (local.get $x) (i32.shl (i32.load (local.get $q)) (i32.const 4))))))
                  (local.set $q (i32.add (local.get $q) (i32.const 4)))
                  (br $one)))
              (local.set $pull (f64x2.sub (f64x2.div (local.get $acc) (f64x2.splat (f64.convert_i32_s (local.get $deg)))) (local.get $xi)))))
          (call $step (local.get $i) (local.get $xi) (local.get $pull) (local.get $out) (local.get $rng)
                      (local.get $alpha) (local.get $beta) (local.get $gamma) (local.get $minNorm2)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br_if $node (i32.lt_s (local.get $i) (local.get $to))))))

  ;; Seed rule, nodes from..to-1, in blocks of `block` nodes: first every pull of the block into
  ;; pullBuf (16 bytes a node; a short loop of independent loads, so many cache misses are in
  ;; flight at once), then every step. The faster order once the drifts outgrow the cache. The
  ;; pull is seedRound's, written out again (V8 does not inline a wasm call).
  (func (export "seedRoundBlocked") (param $x i32) (param $out i32) (param $from i32) (param $to i32)
        (param $offsets i32) (param $adj i32) (param $rng i32) (param $pinned i32) (param $pullBuf i32) (param $block i32)
        (param $alpha f64) (param $beta f64) (param $gamma f64) (param $minNorm2 f64)
    (local $b i32) (local $e i32) (local $i i32) (local $q i32) (local $qe i32) (local $deg i32)
    (local $xi v128) (local $acc v128) (local $pull v128)
    (local.set $b (local.get $from))
    (block $done
      (loop $blocks
        (br_if $done (i32.ge_s (local.get $b) (local.get $to)))
        (local.set $e (select (local.get $to) (i32.add (local.get $b) (local.get $block))
                              (i32.lt_s (i32.sub (local.get $to) (local.get $b)) (local.get $block))))
        (local.set $i (local.get $b))
        (block $pullsDone
          (loop $pulls
            (br_if $pullsDone (i32.ge_s (local.get $i) (local.get $e)))
            (local.set $q (i32.load (i32.add (local.get $offsets) (i32.shl (local.get $i) (i32.const 2)))))
            (local.set $qe (i32.load offset=4 (i32.add (local.get $offsets) (i32.shl (local.get $i) (i32.const 2)))))
            (local.set $deg (i32.sub (local.get $qe) (local.get $q)))
            (local.set $pull (v128.const f64x2 0 0))
            ;; A stubborn node's pull is computed and never used: no branch in this loop.
            (if (i32.gt_s (local.get $deg) (i32.const 0))
              (then
                (local.set $acc (v128.const f64x2 0 0))
                (local.set $q (i32.add (local.get $adj) (i32.shl (local.get $q) (i32.const 2))))
                (local.set $qe (i32.add (local.get $adj) (i32.shl (local.get $qe) (i32.const 2))))
                (block $fours
                  (loop $four
                    (br_if $fours (i32.lt_u (i32.sub (local.get $qe) (local.get $q)) (i32.const 16)))
                    (local.set $acc (f64x2.add (f64x2.add (f64x2.add (f64x2.add (local.get $acc)
                      (v128.load (i32.add (local.get $x) (i32.shl (i32.load offset=0 (local.get $q)) (i32.const 4)))))
                      (v128.load (i32.add (local.get $x) (i32.shl (i32.load offset=4 (local.get $q)) (i32.const 4)))))
                      (v128.load (i32.add (local.get $x) (i32.shl (i32.load offset=8 (local.get $q)) (i32.const 4)))))
                      (v128.load (i32.add (local.get $x) (i32.shl (i32.load offset=12 (local.get $q)) (i32.const 4))))))
                    (local.set $q (i32.add (local.get $q) (i32.const 16)))
                    (br $four)))
                (block $ones
                  (loop $one
                    (br_if $ones (i32.ge_u (local.get $q) (local.get $qe)))
                    (local.set $acc (f64x2.add (local.get $acc)
                      (v128.load (i32.add (local.get $x) (i32.shl (i32.load (local.get $q)) (i32.const 4))))))
                    (local.set $q (i32.add (local.get $q) (i32.const 4)))
                    (br $one)))
                (local.set $pull (f64x2.sub (f64x2.div (local.get $acc) (f64x2.splat (f64.convert_i32_s (local.get $deg))))
                                            (v128.load (i32.add (local.get $x) (i32.shl (local.get $i) (i32.const 4))))))))
            (v128.store (i32.add (local.get $pullBuf) (i32.shl (i32.sub (local.get $i) (local.get $b)) (i32.const 4))) (local.get $pull))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $pulls)))
        (local.set $i (local.get $b))
        (block $stepsDone
          (loop $steps
            (br_if $stepsDone (i32.ge_s (local.get $i) (local.get $e)))
            (if (i32.eqz (i32.and (i32.ne (local.get $pinned) (i32.const 0))
                                  (i32.ne (i32.load8_u (i32.add (local.get $pinned) (local.get $i))) (i32.const 0))))
              (then
                (call $step (local.get $i) (v128.load (i32.add (local.get $x) (i32.shl (local.get $i) (i32.const 4))))
                            (v128.load (i32.add (local.get $pullBuf) (i32.shl (i32.sub (local.get $i) (local.get $b)) (i32.const 4))))
                            (local.get $out) (local.get $rng)
                            (local.get $alpha) (local.get $beta) (local.get $gamma) (local.get $minNorm2))))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $steps)))
        (local.set $b (local.get $e))
        (br $blocks))))

  ;; Metropolis, nodes from..to-1: pull = sum_j w_ij * (r_j - own), w_ij = min(inverse[i], inverse[j]) as kernel.ts picks it.
  (func (export "metropolisRound") (param $x i32) (param $out i32) (param $from i32) (param $to i32)
        (param $offsets i32) (param $adj i32) (param $rng i32) (param $pinned i32) (param $inverse i32)
        (param $alpha f64) (param $beta f64) (param $gamma f64) (param $minNorm2 f64)
    (local $i i32) (local $q i32) (local $qe i32) (local $j i32) (local $own f64) (local $other f64)
    (local $xi v128) (local $pull v128)
    (local.set $i (local.get $from))
    (block $done
      (br_if $done (i32.ge_s (local.get $i) (local.get $to)))
      (loop $node
        (block $skip
          (br_if $skip (i32.and (i32.ne (local.get $pinned) (i32.const 0))
                                (i32.ne (i32.load8_u (i32.add (local.get $pinned) (local.get $i))) (i32.const 0))))
          (local.set $q (i32.add (local.get $adj) (i32.shl (i32.load (i32.add (local.get $offsets) (i32.shl (local.get $i) (i32.const 2)))) (i32.const 2))))
          (local.set $qe (i32.add (local.get $adj) (i32.shl (i32.load offset=4 (i32.add (local.get $offsets) (i32.shl (local.get $i) (i32.const 2)))) (i32.const 2))))
          (local.set $xi (v128.load (i32.add (local.get $x) (i32.shl (local.get $i) (i32.const 4)))))
          (local.set $own (f64.load (i32.add (local.get $inverse) (i32.shl (local.get $i) (i32.const 3)))))
          (local.set $pull (v128.const f64x2 0 0))
          (block $peers
            (loop $peer
              (br_if $peers (i32.ge_u (local.get $q) (local.get $qe)))
              (local.set $j (i32.load (local.get $q)))
              (local.set $other (f64.load (i32.add (local.get $inverse) (i32.shl (local.get $j) (i32.const 3)))))
              ;; w = other < own ? other : own
              (local.set $pull (f64x2.add (local.get $pull)
                (f64x2.mul
                  (f64x2.splat (select (local.get $other) (local.get $own) (f64.lt (local.get $other) (local.get $own))))
                  (f64x2.sub (v128.load (i32.add (local.get $x) (i32.shl (local.get $j) (i32.const 4)))) (local.get $xi)))))
              (local.set $q (i32.add (local.get $q) (i32.const 4)))
              (br $peer)))
          (call $step (local.get $i) (local.get $xi) (local.get $pull) (local.get $out) (local.get $rng)
                      (local.get $alpha) (local.get $beta) (local.get $gamma) (local.get $minNorm2)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br_if $node (i32.lt_s (local.get $i) (local.get $to))))))
)
