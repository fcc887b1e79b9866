// accel_tlast_check: a sticky error when a stream's TLAST disagrees with its frame length
//
// Why: every block finds its frame boundaries by counting beats and ignores the TLAST it is given, so a beat lost
// or duplicated anywhere upstream would shift every later frame silently.  Inside accel_top each producer marks
// its frames' last beats itself, so on every stream TLAST must be high on exactly each frame's last beat.  The
// generator (accel.rtl.top) watches the stream into each counting block with one instance of this module: on
// every handshake (valid && ready) it compares TLAST with "this is beat BEATS-1 of the frame" by its own beat
// counter and sets tlast_err on any difference (TLAST missing at a frame end, or TLAST on another beat).
// tlast_err stays high until reset.  It only watches: no port of the stream is driven, nothing is added to any
// path of the stream but the fan-out of valid, ready and last.
`resetall
`timescale 1ns / 1ps
`default_nettype none

module accel_tlast_check #(
    parameter BEATS = 4   // beats per frame of the watched stream (>= 1)
) (
    input  wire clk,
    input  wire rst,
    input  wire valid,      // the stream's TVALID
    input  wire ready,      // the stream's TREADY
    input  wire last,       // the stream's TLAST
    output reg  tlast_err   // sticky: a handshake's TLAST differed from the frame position (cleared by reset)
);

    localparam BW = (BEATS > 1) ? $clog2(BEATS) : 1;
    localparam [BW-1:0] LAST_BEAT = BEATS[BW-1:0] - 1'b1;

    initial begin
        if (BEATS < 1) begin
            $error("%m: accel_tlast_check needs BEATS >= 1 (BEATS=%0d)", BEATS);
            $finish;
        end
    end

    reg  [BW-1:0] beat;     // beats of the current frame taken so far
    reg           at_last;  // beat == LAST_BEAT (registered: no compare after the handshake)
    wire [BW-1:0] beat_next = at_last ? {BW{1'b0}} : beat + 1'b1;

    always @(posedge clk) begin
        if (rst) begin
            beat <= {BW{1'b0}};
            at_last <= (LAST_BEAT == {BW{1'b0}});
            tlast_err <= 1'b0;
        end else if (valid && ready) begin
            beat <= beat_next;
            at_last <= (beat_next == LAST_BEAT);
            if (last != at_last) tlast_err <= 1'b1;
        end
    end

endmodule

`resetall
