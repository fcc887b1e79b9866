// Formal AXI-Stream checkers, instantiated around one accel block by rtl_tests/formal/harness.py.
//
// axis_formal_in is the environment of one input stream (assumptions): TVALID, once high, holds until TREADY
// and TDATA / TLAST stay stable meanwhile; TLAST marks each frame's last beat (or is free when FREE_LAST, for
// the source of accel_frame_last, which must follow it); nothing is offered during reset or after FRAMES
// frames.  axis_formal_out checks one output stream (assertions): the same handshake rules, TLAST on exactly
// beat BEATS-1 of each frame (ANDed with the flag its frame carried in, for accel_frame_last), no beat of
// output frame k offered before the first beat of input frame k is (no beat created), and, once every input has
// sent its FRAMES frames and the output has been ready for DRAIN cycles since, exactly FRAMES * BEATS beats
// handed over (no beat lost, none created).
`default_nettype none

module axis_formal_in #(
    parameter W = 1,          // TDATA width
    parameter BEATS = 1,      // beats per frame
    parameter FRAMES = 2,     // frames the source sends
    parameter FREE_LAST = 0,  // 1: TLAST is any value (then only recorded per frame)
    parameter COMB = 0,       // 1: the block passes this input's beats on combinationally (accel_frame_last)
    parameter CW = 8          // counter width
) (
    input  wire          clk,
    input  wire          rst,
    input  wire [W-1:0]  data,
    input  wire          valid,
    input  wire          ready,
    input  wire          last,
    output wire [CW-1:0] frames,      // frames started: first beat handed over (with COMB: or offered now)
    output wire          done,        // all FRAMES frames handed over
    output reg  [FRAMES-1:0] flags    // TLAST of each frame's last beat
);
    reg [CW-1:0] pos;                 // beat index within the frame
    reg [CW-1:0] sent;                // frames completed
    reg [CW-1:0] started;             // frames whose first beat was handed over
    reg past_run = 1'b0;              // the previous cycle was out of reset
    wire fire = valid && ready;
    assign done = (sent == FRAMES);
    assign frames = COMB ? started + (valid && pos == 0) : started;

    always @(posedge clk) begin
        past_run <= !rst;
        if (rst) begin
            pos <= 0;
            sent <= 0;
            started <= 0;
            flags <= 0;
        end else if (fire) begin
            if (pos == 0) started <= started + 1'b1;
            if (pos == BEATS - 1) begin
                pos <= 0;
                sent <= sent + 1'b1;
                flags[sent] <= last;
            end else begin
                pos <= pos + 1'b1;
            end
        end
    end

    always @(*) begin
        if (rst || done) assume(!valid);
        if (!FREE_LAST && valid) assume(last == (pos == BEATS - 1));
    end

    always @(posedge clk) begin
        if (past_run && !rst && $past(valid && !ready)) begin
            assume(valid);
            assume(data == $past(data));
            assume(last == $past(last));
        end
    end
endmodule

module axis_formal_out #(
    parameter W = 1,          // TDATA width
    parameter BEATS = 1,      // beats per frame
    parameter FRAMES = 2,     // frames expected
    parameter CW = 8          // counter width
) (
    input  wire          clk,
    input  wire          rst,
    input  wire [W-1:0]  data,
    input  wire          valid,
    input  wire          ready,
    input  wire          last,
    input  wire [CW-1:0] allowed,      // output frames the inputs allow so far (frames started on every input)
    input  wire [FRAMES-1:0] flags,    // TLAST flag of each frame (all ones unless the block forwards TLAST)
    input  wire          drained       // inputs done and the output ready for the drain time
);
    reg [CW-1:0] pos;                  // beat index within the frame
    reg [CW-1:0] frame;                // frame index of the current beat
    reg [CW-1:0] total;                // beats handed over
    reg past_run = 1'b0;
    wire fire = valid && ready;

    always @(posedge clk) begin
        past_run <= !rst;
        if (rst) begin
            pos <= 0;
            frame <= 0;
            total <= 0;
        end else if (fire) begin
            total <= total + 1'b1;
            if (pos == BEATS - 1) begin
                pos <= 0;
                frame <= frame + 1'b1;
            end else begin
                pos <= pos + 1'b1;
            end
        end
    end

    always @(*) begin
        if (!rst && valid) begin
            assert(frame < allowed);
            assert(last == ((pos == BEATS - 1) && flags[frame]));
        end
        if (!rst && drained) assert(total == FRAMES * BEATS);
    end

    always @(posedge clk) begin
        if (past_run && !rst && $past(valid && !ready)) begin
            assert(valid);
            assert(data == $past(data));
            assert(last == $past(last));
        end
    end
endmodule
